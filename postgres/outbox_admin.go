package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/store"
)

// OutboxPending summarizes the pending notifications by channel and kind.
func (s *Store) OutboxPending(ctx context.Context) ([]*store.OutboxChannel, error) {
	channels := []*store.OutboxChannel{}
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		channels = channels[:0]
		rows, err := q.Query(ctx, outboxPendingSQL)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c := &store.OutboxChannel{}
			var lastError *string
			if err := rows.Scan(&c.Channel, &c.Kind, &c.Pending, &c.Oldest, &c.Attempted, &c.MaxAttempts, &lastError); err != nil {
				return err
			}
			c.Oldest = c.Oldest.UTC()
			c.LastError = str(lastError)
			channels = append(channels, c)
		}
		return rows.Err()
	})
	return channels, err
}

// OutboxGiveUp gives up the pending notifications of a channel that no
// deliverer holds now.
func (s *Store) OutboxGiveUp(ctx context.Context, params *store.OutboxGiveUpParams) (int, error) {
	if err := store.CheckOutboxGiveUp(params); err != nil {
		return 0, err
	}
	var given int
	err := s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, outboxGiveUpSQL, params.Channel, now(), store.OutboxGiveUpError(params))
		if err != nil {
			return fmt.Errorf("give up the notifications of channel %s: %w", params.Channel, err)
		}
		given = int(tag.RowsAffected())
		return nil
	})
	return given, err
}

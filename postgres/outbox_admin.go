package postgres

import (
	"context"

	"github.com/klaxonhq/klaxon/store"
)

// OutboxSummarize summarizes the pending notifications by channel and kind.
func (s *Store) OutboxSummarize(ctx context.Context) ([]*store.OutboxChannel, error) {
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

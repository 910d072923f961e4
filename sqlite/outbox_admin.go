package sqlite

import (
	"context"

	"zombiezen.com/go/sqlite"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// OutboxPending summarizes the pending notifications by channel and kind.
func (s *Store) OutboxPending(ctx context.Context) ([]*store.OutboxChannel, error) {
	channels := []*store.OutboxChannel{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		channels = channels[:0]
		return execute(conn, outboxPendingSQL, func(stmt *sqlite.Stmt) error {
			channels = append(channels, &store.OutboxChannel{
				Channel:     stmt.GetText("channel"),
				Kind:        klaxontype.NotificationKind(stmt.GetText("kind")),
				Pending:     int(stmt.GetInt64("pending")),
				Oldest:      columnTime(stmt, "oldest"),
				Attempted:   int(stmt.GetInt64("attempted")),
				MaxAttempts: int(stmt.GetInt64("max_attempts")),
				LastError:   stmt.GetText("last_error"),
			})
			return nil
		})
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
	err := s.writer.write(func(conn *sqlite.Conn) error {
		if err := execute(conn, outboxGiveUpSQL, nil, params.Channel, now(), store.OutboxGiveUpError(params)); err != nil {
			return err
		}
		given = conn.Changes()
		return nil
	})
	return given, err
}

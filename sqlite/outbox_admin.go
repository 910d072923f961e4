package sqlite

import (
	"context"

	"zombiezen.com/go/sqlite"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// OutboxSummarize summarizes the pending notifications by channel and kind.
func (s *Store) OutboxSummarize(ctx context.Context) ([]*store.OutboxChannel, error) {
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

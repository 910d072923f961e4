package sqlite

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store/txn"
	"zombiezen.com/go/sqlite"
)

// RateLimitLock reads the limit's row: the writer is the only one to write,
// so nothing moves it before the rule's transaction commits.
func (t *tx) RateLimitLock(_ context.Context, key string) (*txn.RateLimitRow, error) {
	var row *txn.RateLimitRow
	err := execute(t.conn, rateLimitGetSQL, func(stmt *sqlite.Stmt) error {
		row = scanRateLimit(stmt)
		return nil
	}, key)
	return row, err
}

func (t *tx) RateLimitRows(_ context.Context) ([]*txn.RateLimitRow, error) {
	var rows []*txn.RateLimitRow
	err := execute(t.conn, rateLimitListSQL, func(stmt *sqlite.Stmt) error {
		rows = append(rows, scanRateLimit(stmt))
		return nil
	})
	return rows, err
}

func (t *tx) RateLimitUpsert(_ context.Context, limit *klaxontype.RateLimit) error {
	return execute(t.conn, rateLimitUpsertSQL, nil, limit.Key, limit.Requests, limit.Tokens, int64(limit.Per), limit.UpdatedAt)
}

func (t *tx) RateLimitAdvance(_ context.Context, key string, requestTAT, tokenTAT int64) error {
	return execute(t.conn, rateLimitAdvanceSQL, nil, key, requestTAT, tokenTAT)
}

func scanRateLimit(stmt *sqlite.Stmt) *txn.RateLimitRow {
	return &txn.RateLimitRow{
		Limit: klaxontype.RateLimit{
			Key: stmt.GetText("key"), Requests: stmt.GetInt64("requests"), Tokens: stmt.GetInt64("tokens"),
			Per: time.Duration(stmt.GetInt64("per_ns")), UpdatedAt: columnTime(stmt, "updated_at"),
		},
		RequestTAT: stmt.GetInt64("request_tat"),
		TokenTAT:   stmt.GetInt64("token_tat"),
	}
}

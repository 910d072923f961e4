package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store/txn"
)

// RateLimitLock locks the limit's row: of the acquisitions of every process,
// one at a time reads and moves it, and the others read what it wrote.
func (t *tx) RateLimitLock(ctx context.Context, key string) (*txn.RateLimitRow, error) {
	row, err := scanRateLimit(t.tx.QueryRow(ctx, rateLimitLockSQL, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return row, err
}

func (t *tx) RateLimitRows(ctx context.Context) ([]*txn.RateLimitRow, error) {
	rows, err := t.tx.Query(ctx, rateLimitListSQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*txn.RateLimitRow
	for rows.Next() {
		row, err := scanRateLimit(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, row)
	}
	return list, rows.Err()
}

func (t *tx) RateLimitUpsert(ctx context.Context, limit *klaxontype.RateLimit) error {
	_, err := t.tx.Exec(ctx, rateLimitUpsertSQL, limit.Key, limit.Requests, limit.Tokens, int64(limit.Per), limit.UpdatedAt)
	return err
}

func (t *tx) RateLimitAdvance(ctx context.Context, key string, requestTAT, tokenTAT int64) error {
	_, err := t.tx.Exec(ctx, rateLimitAdvanceSQL, key, requestTAT, tokenTAT)
	return err
}

func scanRateLimit(row pgx.Row) (*txn.RateLimitRow, error) {
	var r txn.RateLimitRow
	var per int64
	if err := row.Scan(&r.Limit.Key, &r.Limit.Requests, &r.Limit.Tokens, &per, &r.RequestTAT, &r.TokenTAT, &r.Limit.UpdatedAt); err != nil {
		return nil, err
	}
	r.Limit.Per = time.Duration(per)
	r.Limit.UpdatedAt = r.Limit.UpdatedAt.UTC()
	return &r, nil
}

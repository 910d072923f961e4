package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

type spendBucketRow struct {
	Bucket  time.Time `db:"bucket"`
	Runs    int       `db:"runs"`
	Retries int       `db:"retries"`
	spendColumns
}

// SpendListBuckets sums a workflow's ended runs per time bucket.
func (s *Store) SpendListBuckets(ctx context.Context, params *store.SpendSeriesParams) ([]*klaxontype.SpendBucket, error) {
	if params.Workflow == "" || params.Bucket < time.Second || !params.Since.Before(params.Until) {
		return nil, fmt.Errorf("%w: a spend series needs a workflow, a bucket of at least a second and since before until", klaxontype.ErrInvalid)
	}
	buckets := []*klaxontype.SpendBucket{}
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, spendSeriesSQL, params.Workflow, params.Since, params.Until, params.Bucket.Microseconds())
		if err != nil {
			return err
		}
		rowsOf, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[spendBucketRow])
		if err != nil {
			return err
		}
		buckets = make([]*klaxontype.SpendBucket, len(rowsOf))
		for i, r := range rowsOf {
			buckets[i] = &klaxontype.SpendBucket{Start: r.Bucket.UTC(), Runs: r.Runs, Retries: r.Retries, Spend: r.spend()}
		}
		return nil
	})
	return buckets, err
}

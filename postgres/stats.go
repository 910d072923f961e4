package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// statsRow is one aggregate row of the stats statement: a count of one kind
// (enqueued, ended, dead_letter) in one bucket, by status or class.
type statsRow struct {
	Kind         string    `db:"kind"`
	Bucket       time.Time `db:"bucket"`
	Label        string    `db:"label"`
	Count        int       `db:"count"`
	Retries      int       `db:"retries"`
	InputTokens  int64     `db:"input_tokens"`
	OutputTokens int64     `db:"output_tokens"`
	CostUSD      float64   `db:"cost_usd"`
	UnknownCost  int       `db:"unknown_cost"`
}

// StatsListBuckets counts runs and dead-letter entries per time bucket, in one
// aggregate statement over the time indexes.
func (s *Store) StatsListBuckets(ctx context.Context, params *store.StatsSeriesParams) ([]*klaxontype.StatsBucket, error) {
	buckets, since, until, err := params.Buckets()
	if err != nil {
		return nil, err
	}
	var rows []statsRow
	err = s.read(ctx, func(ctx context.Context, q querier) error {
		result, err := q.Query(ctx, statsSeriesSQL, since, until, params.Step.Microseconds(), params.Workflow)
		if err != nil {
			return err
		}
		rows, err = pgx.CollectRows(result, pgx.RowToStructByName[statsRow])
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		index := int(row.Bucket.Sub(since) / params.Step)
		if index < 0 || index >= len(buckets) {
			continue
		}
		bucket := buckets[index]
		switch row.Kind {
		case "enqueued":
			bucket.RunsEnqueued += row.Count
		case "ended":
			bucket.RunsByStatus[klaxontype.RunStatus(row.Label)] += row.Count
			bucket.RunsFinished += row.Count
			bucket.Retries += row.Retries
			bucket.InputTokens += row.InputTokens
			bucket.OutputTokens += row.OutputTokens
			bucket.CostUSD += row.CostUSD
			bucket.RunsUnknownCost += row.UnknownCost
		case "dead_letter":
			bucket.DLQByClass[klaxontype.FailureClass(row.Label)] += row.Count
		}
	}
	for _, bucket := range buckets {
		bucket.SetRates()
	}
	return buckets, nil
}

package sqlite

import (
	"context"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// StatsListBuckets counts runs and dead-letter entries per time bucket, in one
// aggregate statement over the time indexes.
func (s *Store) StatsListBuckets(ctx context.Context, params *store.StatsSeriesParams) ([]*klaxontype.StatsBucket, error) {
	buckets, since, until, err := params.Buckets()
	if err != nil {
		return nil, err
	}
	err = s.read(ctx, func(conn *sqlite.Conn) error {
		return execute(conn, statsSeriesSQL, func(stmt *sqlite.Stmt) error {
			index := stmt.GetInt64("bucket")
			if index < 0 || index >= int64(len(buckets)) {
				return nil
			}
			bucket, label, count := buckets[index], stmt.GetText("label"), int(stmt.GetInt64("count"))
			switch stmt.GetText("kind") {
			case "enqueued":
				bucket.RunsEnqueued += count
			case "ended":
				bucket.RunsByStatus[klaxontype.RunStatus(label)] += count
				bucket.RunsFinished += count
				bucket.Retries += int(stmt.GetInt64("retries"))
				bucket.InputTokens += stmt.GetInt64("input_tokens")
				bucket.OutputTokens += stmt.GetInt64("output_tokens")
				bucket.CostUSD += stmt.GetFloat("cost_usd")
				bucket.RunsUnknownCost += int(stmt.GetInt64("unknown_cost"))
			case "dead_letter":
				bucket.DLQByClass[klaxontype.FailureClass(label)] += count
			}
			return nil
		}, since, until, params.Step.Microseconds(), params.Workflow)
	})
	if err != nil {
		return nil, err
	}
	for _, bucket := range buckets {
		bucket.SetRates()
	}
	return buckets, nil
}

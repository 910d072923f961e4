package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// SpendListBuckets sums a workflow's ended runs per time bucket.
func (s *Store) SpendListBuckets(ctx context.Context, params *store.SpendSeriesParams) ([]*klaxontype.SpendBucket, error) {
	if params.Workflow == "" || params.Bucket < time.Second || !params.Since.Before(params.Until) {
		return nil, fmt.Errorf("%w: a spend series needs a workflow, a bucket of at least a second and since before until", klaxontype.ErrInvalid)
	}
	buckets := []*klaxontype.SpendBucket{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		return execute(conn, spendSeriesSQL, func(stmt *sqlite.Stmt) error {
			buckets = append(buckets, &klaxontype.SpendBucket{
				Start:   columnTime(stmt, "bucket"),
				Runs:    int(stmt.GetInt64("runs")),
				Retries: int(stmt.GetInt64("retries")),
				Spend:   scanSpend(stmt),
			})
			return nil
		}, params.Workflow, params.Since, params.Until, params.Bucket.Microseconds())
	})
	return buckets, err
}

package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/store"
)

// BenchStatsSeries measures the dashboard overview's read of a seeded store:
// the last 24 hours in hourly buckets, of every workflow ("all") and of
// workflow-1 ("one"). Each store's benchmark seeds its own store first.
func BenchStatsSeries(b *testing.B, st store.Reports, now time.Time) {
	since := now.Truncate(time.Hour).Add(-23 * time.Hour)
	for _, workflow := range []string{"", "workflow-1"} {
		name := "all"
		if workflow != "" {
			name = "one"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				buckets, err := st.StatsListBuckets(context.Background(), &store.StatsSeriesParams{
					Workflow: workflow, Since: since, Until: now, Step: time.Hour,
				})
				if err != nil || len(buckets) != 24 {
					b.Fatalf("%d buckets, %v", len(buckets), err)
				}
			}
		})
	}
}

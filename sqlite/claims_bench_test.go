package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// seedPendingSQL writes ?1 pending runs of workflow ?3, IDs prefixed ?4,
// available one microsecond apart from ?2.
const seedPendingSQL = `
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?1)
INSERT INTO runs (id, workflow, workflow_version, status, input, available_at, created_at, updated_at)
SELECT printf('%s%020d', ?4, i), ?3, 1, 'pending', X'7B7D', ?2 + i, ?2, ?2 FROM seq`

// BenchmarkClaimsBesideABacklog measures claims of 32 runs of the workflow
// a worker hosts, one op each, beside 10,000 runs due before them that the
// claim must not take: of a workflow the worker does not host, or of one it
// hosts whose breaker is open. The baseline has no such backlog.
func BenchmarkClaimsBesideABacklog(b *testing.B) {
	for _, backlog := range []string{"none", "unhosted", "breaker-open"} {
		b.Run("backlog="+backlog, func(b *testing.B) {
			s, err := Open(context.Background(), filepath.Join(b.TempDir(), "claims.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			now := time.Now()
			workflows := []string{"claimer"}
			err = s.writer.write(func(conn *sqlite.Conn) error {
				if backlog != "none" {
					if err := execute(conn, seedPendingSQL, nil, 10_000, now.Add(-time.Hour).UnixMicro(), "stuck", "01STUCK"); err != nil {
						return err
					}
				}
				if backlog == "breaker-open" {
					workflows = append(workflows, "stuck")
					err := execute(conn, `INSERT INTO breakers (workflow, state, opened_at, until, reason, opened_by)
						VALUES ('stuck', 'open', ?1, ?2, 'bench', 'bench')`, nil, now.UnixMicro(), now.Add(24*time.Hour).UnixMicro())
					if err != nil {
						return err
					}
				}
				return execute(conn, seedPendingSQL, nil, b.N*32, now.Add(-time.Minute).UnixMicro(), "claimer", "01CLAIM")
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				claimed, err := s.RunsClaim(context.Background(), &store.RunsClaimParams{
					Holder: "bench", Workflows: workflows, Limit: 32, LeaseDuration: time.Minute})
				if err != nil {
					b.Fatal(err)
				}
				if len(claimed) != 32 {
					b.Fatalf("claimed %d runs; want 32", len(claimed))
				}
				for _, c := range claimed {
					if c.Run.Workflow != "claimer" {
						b.Fatalf("claimed a run of %s", c.Run.Workflow)
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/claim")
		})
	}
}

// A claim takes the oldest due runs across the workflows it hosts, leaving
// out those whose breaker is open: through the statement that walks each
// workflow on its own, and, for a worker hosting more workflows than that
// statement walks, the one that walks them all together.
func TestClaimOverManyWorkflows(t *testing.T) {
	t.Parallel()
	for _, hosted := range []int{10, maxClaimWorkflows + 5} {
		t.Run(fmt.Sprintf("workflows=%d", hosted), func(t *testing.T) {
			t.Parallel()
			testClaimOverWorkflows(t, hosted)
		})
	}
}

func testClaimOverWorkflows(t *testing.T, hosted int) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "claims.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	var workflows []string
	err = s.writer.write(func(conn *sqlite.Conn) error {
		for i := range hosted {
			name := fmt.Sprintf("wf-%03d", i)
			workflows = append(workflows, name)
			// wf-000's run is due first, wf-001's next, and so on.
			at := now.Add(-time.Hour).Add(time.Duration(i) * time.Second).UnixMicro()
			if err := execute(conn, seedPendingSQL, nil, 1, at, name, fmt.Sprintf("01W%03d", i)); err != nil {
				return err
			}
		}
		return execute(conn, `INSERT INTO breakers (workflow, state, opened_at, until, reason, opened_by)
			VALUES ('wf-001', 'open', ?1, ?2, 'test', 'test')`, nil, now.UnixMicro(), now.Add(time.Hour).UnixMicro())
	})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := s.RunsClaim(context.Background(), &store.RunsClaimParams{
		Holder: "w", Workflows: workflows, Limit: 3, LeaseDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range claimed {
		got = append(got, c.Run.Workflow)
	}
	if want := []string{"wf-000", "wf-002", "wf-003"}; !slices.Equal(got, want) {
		t.Errorf("claimed runs of %v; want %v (the oldest due, wf-001's breaker open)", got, want)
	}
}

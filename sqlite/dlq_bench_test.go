package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// fillDeadLetters writes n dead runs and their open entries straight into the
// database, spread evenly over the failure classes, in batches.
func fillDeadLetters(b *testing.B, s *Store, n int) {
	b.Helper()
	classes := klaxontype.FailureClasses()
	const batch = 20000
	start := time.Now().Add(-time.Hour).UnixMicro()
	for done := 0; done < n; done += batch {
		err := s.writer.write(func(conn *sqlite.Conn) error {
			for i := done; i < min(done+batch, n); i++ {
				runID := fmt.Sprintf("01RUN%021d", i)
				at := start + int64(i)
				if err := execute(conn, `INSERT INTO runs (id, workflow, workflow_version, status, input, available_at,
					created_at, updated_at, failure_class, failure_reason) VALUES (?1, 'bench', 1, 'dead', X'7B7D', ?2, ?2, ?2, ?3, 'benchmark failure')`,
					nil, runID, at, string(classes[i%len(classes)])); err != nil {
					return err
				}
				if err := execute(conn, dlqEntryInsertSQL, nil, fmt.Sprintf("01DLQ%021d", i), nil, "review", at, runID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDLQListByClass measures the first page (50 entries) of the
// dead-letter queue filtered by one class, over 1,000,000 entries. The fill
// happens once, before the timer; run it with a fixed -benchtime (see
// docs/benchmarks.md).
func BenchmarkDLQListByClass(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "dlq.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const entries = 1_000_000
	fillDeadLetters(b, s, entries)
	filters := map[string]*store.DLQListParams{
		"class":          {Classes: []klaxontype.FailureClass{klaxontype.ClassContextOverflow}, Limit: 50},
		"class+state":    {Classes: []klaxontype.FailureClass{klaxontype.ClassContextOverflow}, States: []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}, Limit: 50},
		"state":          {States: []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}, Limit: 50},
		"class+workflow": {Classes: []klaxontype.FailureClass{klaxontype.ClassSemantic}, Workflow: "bench", Limit: 50},
	}
	for name, filter := range filters {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				page, err := s.DLQList(context.Background(), filter)
				if err != nil || len(page) != 50 {
					b.Fatalf("page of %d entries, %v", len(page), err)
				}
			}
		})
	}
}

package klaxon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// retentionApplierRole is a process that applies retention to the ended runs
// of workflow "archive" in the SQLite file at KLAXON_TEST_DB, 10 runs a
// batch, printing "deleted N" after each batch: the crash test kills it
// between and inside batches.
const retentionApplierRole = "retention-applier"

func runRetentionApplier() int {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, os.Getenv("KLAXON_TEST_DB"), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_, err = client.ApplyRetention(ctx, retentionCrashPolicy(), nil, func(_ string, deleted int) {
		fmt.Printf("deleted %d\n", deleted)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func retentionCrashPolicy() *klaxon.RetentionPolicy {
	return &klaxon.RetentionPolicy{OlderThan: time.Millisecond, Workflows: []string{"archive"}, Batch: 10, Actor: "crash-test"}
}

// endedRun enqueues a run of "archive", checkpoints a step, and completes it;
// with dead set it leaves it dead with an open dead-letter entry, and with
// running set it leaves it running under a lease.
func endedRun(t *testing.T, st store.Store, id string, dead, running bool) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := st.RunEnqueue(ctx, &store.RunEnqueueParams{ID: id, Workflow: "archive", Input: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.RunsClaim(ctx, &store.RunsClaimParams{Holder: "w", Workflows: []string{"archive"}, Limit: 1, LeaseDuration: time.Hour})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %d", err, len(claimed))
	}
	lease := store.Lease{RunID: claimed[0].Run.ID, Epoch: claimed[0].Run.Epoch}
	now := time.Now()
	if err := st.StepCheckpoint(ctx, &store.StepCheckpointParams{Lease: lease, Holder: "w", Seq: 1, Name: "fetch", Attempt: 1,
		IdempotencyKey: id + "/1", Output: []byte(`{"pages": 3}`), StartedAt: now, FinishedAt: now}); err != nil {
		t.Fatal(err)
	}
	switch {
	case running:
	case dead:
		failure := &klaxontype.RunFailure{Class: klaxontype.ClassPermanent, Reason: "bad input", Step: "parse", StepSeq: 2}
		if err := st.RunFail(ctx, &store.RunFailParams{Lease: lease, Holder: "w", Next: klaxontype.RunStatusDead, Failure: failure,
			DeadLetter: &store.DeadLetterParams{ID: "E" + id, Channel: "review"}}); err != nil {
			t.Fatal(err)
		}
	default:
		if err := st.RunComplete(ctx, &store.RunCompleteParams{Lease: lease, Holder: "w", Output: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRetentionSurvivesSIGKILL kills a process applying retention half-way,
// then applies the same policy again: every expired run is gone with its
// history, each batch is in the audit log once, and nothing retention must
// keep (a dead run with an open entry, a running or pending run) was touched.
func TestRetentionSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a process; skipped in -short mode")
	}
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "retention.db")
	st, err := sqlite.Open(ctx, dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const expired = 120
	for i := range expired {
		endedRun(t, st, fmt.Sprintf("R%03d", i), false, false)
	}
	kept := []string{}
	for i := range 6 {
		id := fmt.Sprintf("K%03d", i)
		endedRun(t, st, id, i%2 == 0, i%2 == 1) // dead with an open entry, or running
		kept = append(kept, id)
	}
	if _, _, err := st.RunEnqueue(ctx, &store.RunEnqueueParams{ID: "P000", Workflow: "archive", Input: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, "P000")
	time.Sleep(5 * time.Millisecond) // past the policy's OlderThan

	applier := startChild(t, retentionApplierRole, dbPath, "")
	for seen := 0; seen < 4; seen++ {
		if _, ok := <-applier.lines; !ok {
			t.Fatal("the retention process exited before the kill point")
		}
	}
	if err := applier.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = applier.cmd.Wait()

	left, err := st.RunListExpired(ctx, &store.RunListExpiredParams{Workflow: "archive", FinishedBefore: time.Now(), Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) == 0 || len(left) == expired {
		t.Fatalf("%d expired runs left after the kill; want the kill half-way", len(left))
	}
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	result, err := client.ApplyRetention(ctx, retentionCrashPolicy(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if result.Deleted != len(left) {
		t.Errorf("the second application deleted %d runs; want the %d the killed one left", result.Deleted, len(left))
	}
	for i := range expired {
		if _, err := st.RunGet(ctx, fmt.Sprintf("R%03d", i)); err == nil {
			t.Errorf("run R%03d is still there", i)
		}
	}
	for _, id := range kept {
		run, err := st.RunGet(ctx, id)
		if err != nil {
			t.Errorf("run %s, which retention must keep, is gone: %v", id, err)
			continue
		}
		if steps, err := st.StepList(ctx, id); id != "P000" && (err != nil || len(steps) != 1) {
			t.Errorf("run %s (%s) has %d steps after retention, want 1: %v", id, run.Status, len(steps), err)
		}
	}
	audit, err := st.AuditList(ctx, &store.AuditListParams{Action: klaxontype.AuditRetentionDelete, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]int{}
	for _, record := range audit {
		var params struct {
			Runs []string `json:"runs"`
		}
		if err := json.Unmarshal(record.Params, &params); err != nil {
			t.Fatal(err)
		}
		for _, id := range params.Runs {
			recorded[id]++
		}
	}
	for i := range expired {
		if id := fmt.Sprintf("R%03d", i); recorded[id] != 1 {
			t.Errorf("the audit log records the deletion of %s %d times; want once", id, recorded[id])
		}
	}
	if len(recorded) != expired {
		t.Errorf("the audit log records %d deleted runs; want the %d expired ones", len(recorded), expired)
	}
}

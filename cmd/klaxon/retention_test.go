package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// endRun enqueues a run of workflow, checkpoints one step and completes it,
// or with dead set leaves it dead with an open entry.
func endRun(t *testing.T, st store.Store, id, workflow string, dead bool) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := st.RunEnqueue(ctx, &store.RunEnqueueParams{ID: id, Workflow: workflow, Input: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.RunsClaim(ctx, &store.RunsClaimParams{Holder: "w", Workflows: []string{workflow}, Limit: 1, LeaseDuration: time.Minute})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %d", err, len(claimed))
	}
	run := claimed[0].Run
	lease := store.Lease{RunID: run.ID, Epoch: run.Epoch}
	now := time.Now()
	if err := st.StepCheckpoint(ctx, &store.StepCheckpointParams{Lease: lease, Holder: "w", Seq: 1, Name: "fetch", Attempt: 1,
		IdempotencyKey: id + "/1", Output: []byte(`{"pages": 3}`), StartedAt: now, FinishedAt: now}); err != nil {
		t.Fatal(err)
	}
	if !dead {
		if err := st.RunComplete(ctx, &store.RunCompleteParams{Lease: lease, Holder: "w", Output: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		return
	}
	failure := &klaxontype.RunFailure{Class: klaxontype.ClassPermanent, Reason: "bad input", Step: "parse", StepSeq: 2}
	if err := st.RunFail(ctx, &store.RunFailParams{Lease: lease, Holder: "w", Next: klaxontype.RunStatusDead, Failure: failure,
		DeadLetter: &store.DeadLetterParams{ID: "E" + id, Channel: "review"}}); err != nil {
		t.Fatal(err)
	}
}

func TestRetentionApply(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "retention.db")
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.WorkflowRegister(context.Background(), &store.WorkflowRegisterParams{Name: "summarize", Version: 1}); err != nil {
		t.Fatal(err)
	}
	endRun(t, st, "01JRUNCOMPLETED0000000001", "summarize", false)
	endRun(t, st, "01JRUNCOMPLETED0000000002", "summarize", false)
	endRun(t, st, "01JRUNDEADOPEN00000000003", "summarize", true)
	st.Close()

	code, stdout, _ := run(t, nil, "retention", "apply", "--db", db, "--older-than", "1h")
	if code != exitOK || !strings.Contains(stdout, "deleted 0 ended runs") {
		t.Fatalf("runs younger than the age: exit %d %q; want none deleted", code, stdout)
	}
	code, stdout, _ = run(t, nil, "retention", "apply", "--db", db, "--older-than", "1ns", "--dry-run")
	if code != exitOK || !strings.Contains(stdout, "would delete 2 ended runs") {
		t.Fatalf("dry run: exit %d %q; want the two completed runs counted", code, stdout)
	}
	export := filepath.Join(t.TempDir(), "archive.jsonl")
	code, stdout, stderr := run(t, nil, "retention", "apply", "--db", db, "--older-than", "1ns", "--export", export, "--actor", "oncall", "--json")
	var result klaxon.RetentionResult
	if code != exitOK || json.Unmarshal([]byte(stdout), &result) != nil || result.Deleted != 2 || result.Exported != 2 {
		t.Fatalf("apply: exit %d %q %q; want 2 deleted and exported", code, stdout, stderr)
	}
	file, err := os.Open(export)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	lines := 0
	for scanner := bufio.NewScanner(file); scanner.Scan(); lines++ {
		var exported klaxon.ExportedRun
		if err := json.Unmarshal(scanner.Bytes(), &exported); err != nil || exported.Run == nil || len(exported.Steps) != 1 || len(exported.Events) == 0 {
			t.Fatalf("export line %d: %v %s", lines, err, scanner.Bytes())
		}
	}
	if lines != 2 {
		t.Fatalf("export has %d lines; want 2", lines)
	}

	st, err = sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.RunGet(context.Background(), "01JRUNCOMPLETED0000000001"); !errors.Is(err, klaxontype.ErrNotFound) {
		t.Errorf("deleted run: %v", err)
	}
	if run, err := st.RunGet(context.Background(), "01JRUNDEADOPEN00000000003"); err != nil || run.Status != klaxontype.RunStatusDead {
		t.Errorf("the run with an open entry: %v, %v; want it kept", run, err)
	}
	records, err := st.AuditList(context.Background(), &store.AuditListParams{Action: klaxontype.AuditRetentionDelete})
	if err != nil || len(records) != 1 || records[0].Actor != "oncall" || !strings.Contains(string(records[0].Params), "finished more than 1ns ago") {
		t.Errorf("audit of the deletion: %+v, %v", records, err)
	}

	for _, bad := range [][]string{
		{"retention", "apply", "--db", db},
		{"retention", "apply", "--db", db, "--older-than", "0d"},
		{"retention", "apply", "--db", db, "--older-than", "30d", "--status", "running"},
	} {
		if code, _, stderr := run(t, nil, bad...); code != exitUsage || stderr == "" {
			t.Errorf("%v: exit %d %q; want a usage error", bad, code, stderr)
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
)

// cancelFixture makes a database with a pending run, delayed so that no
// worker takes it, and a completed one.
func cancelFixture(t *testing.T) (db, pending, completed string) {
	t.Helper()
	ctx := context.Background()
	db = filepath.Join(t.TempDir(), "cancel.db")
	st, err := sqlite.Open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	wf := klaxon.NewWorkflow("echo", func(ctx context.Context, n int) (int, error) { return n, nil })
	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Register(wf); err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	delayed, err := wf.Enqueue(ctx, client, 1, klaxon.WithDelay(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	done, err := wf.Enqueue(ctx, client, 2)
	if err != nil {
		t.Fatal(err)
	}
	awaitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := client.AwaitRun(awaitCtx, done.Run.ID); err != nil {
		t.Fatal(err)
	}
	return db, delayed.Run.ID, done.Run.ID
}

func TestRunsCancel(t *testing.T) {
	t.Parallel()
	db, pending, _ := cancelFixture(t)

	code, stdout, stderr := run(t, nil, "runs", "cancel", pending, "--db", db, "--reason", "the customer withdrew", "--actor", "carol")
	if code != exitOK {
		t.Fatalf("runs cancel exited %d: %s", code, stderr)
	}
	for _, want := range []string{pending, "cancelled by carol: the customer withdrew", "it was pending"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("runs cancel printed %q; want %q in it", stdout, want)
		}
	}
	code, stdout, _ = run(t, nil, "runs", "show", pending, "--db", db, "--json")
	var detail runDetail
	if code != exitOK || json.Unmarshal([]byte(stdout), &detail) != nil {
		t.Fatalf("runs show: exit %d, %q", code, stdout)
	}
	if detail.Run.Status != klaxontype.RunStatusCancelled {
		t.Errorf("run is %s after runs cancel; want cancelled", detail.Run.Status)
	}
	last := detail.Events[len(detail.Events)-1]
	if last.Type != klaxontype.EventRunCancelled || last.Actor != "carol" || !strings.Contains(last.Message, "the customer withdrew") {
		t.Errorf("last event %+v; want run.cancelled by carol with the reason", last)
	}

	// Cancelling it again is refused, naming its status, and changes nothing.
	before := snapshot(t, db)
	code, _, stderr = run(t, nil, "runs", "cancel", pending, "--db", db, "--json")
	if code != exitError || !strings.Contains(stderr, "already cancelled") {
		t.Errorf("second runs cancel exited %d: %s; want 1 saying it is already cancelled", code, stderr)
	}
	if snapshot(t, db) != before {
		t.Error("a refused cancel changed the database")
	}
}

func TestRunsCancelJSON(t *testing.T) {
	t.Parallel()
	db, pending, _ := cancelFixture(t)
	code, stdout, stderr := run(t, map[string]string{"KLAXON_DB": db}, "runs", "cancel", pending, "--json")
	var cancelled klaxontype.Run
	if code != exitOK || json.Unmarshal([]byte(stdout), &cancelled) != nil {
		t.Fatalf("runs cancel --json: exit %d, %q, %s", code, stdout, stderr)
	}
	if cancelled.ID != pending || cancelled.Status != klaxontype.RunStatusCancelled || cancelled.Failure == nil ||
		cancelled.Failure.Class != klaxontype.ClassCancelled {
		t.Errorf("runs cancel --json printed %+v; want the cancelled run", cancelled)
	}
}

func TestRunsCancelBadInput(t *testing.T) {
	t.Parallel()
	db, _, completed := cancelFixture(t)
	before := snapshot(t, db)
	const unknown = "01JB7QZZZZZZZZZZZZZZZZZZZZ"
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unknown run", []string{"runs", "cancel", unknown, "--db", db}, exitError, unknown + " not found"},
		{"completed run", []string{"runs", "cancel", completed, "--db", db, "--reason", "too late"}, exitError, "already completed"},
		{"no run ID", []string{"runs", "cancel", "--db", db}, exitUsage, "one run ID"},
		{"two run IDs", []string{"runs", "cancel", completed, unknown, "--db", db}, exitUsage, "one run ID"},
		{"missing database", []string{"runs", "cancel", completed, "--db", filepath.Join(t.TempDir(), "none.db")}, exitError, ""},
	}
	for _, c := range cases {
		code, _, stderr := run(t, nil, c.args...)
		if code != c.code || !strings.Contains(stderr, c.stderr) {
			t.Errorf("%s: exit %d, %q; want %d and %q", c.name, code, stderr, c.code, c.stderr)
		}
	}
	if snapshot(t, db) != before {
		t.Error("refused cancels changed the database")
	}
}

// retryingFixture makes a database with one run of a workflow that expects
// fetch, decide and save: fetch completed, decide failed, and the run waits
// an hour to retry.
func retryingFixture(t *testing.T) (db, runID string) {
	t.Helper()
	ctx := context.Background()
	db = filepath.Join(t.TempDir(), "retrying.db")
	st, err := sqlite.Open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	wf := klaxon.NewWorkflow("triage", func(ctx context.Context, ticket int) (string, error) {
		if _, err := klaxon.Step(ctx, "fetch", func(context.Context) (int, error) { return ticket, nil }); err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "decide", func(context.Context) (string, error) {
			return "", klaxon.Transient(errors.New("the model provider answered 503"))
		})
	}, klaxon.ExpectSteps("fetch", "decide", "save"),
		klaxon.WithRetryPolicy(klaxontype.RetryPolicy{InitialBackoff: time.Hour, MaxBackoff: time.Hour}))
	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Register(wf); err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	enqueued, err := wf.Enqueue(ctx, client, 7)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		run, err := st.RunGet(ctx, enqueued.Run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status == klaxontype.RunStatusRetrying {
			return db, run.ID
		}
		if time.Now().After(deadline) {
			t.Fatalf("run is %s after 10s; want retrying", run.Status)
		}
	}
}

// A run cancelled while it waits to retry shows its completion record, on
// the database and through a server over a copy of it: the steps it ran and
// the one it failed in, from a process without the workflow's code.
func TestRunsShowCancelledCompletion(t *testing.T) {
	t.Parallel()
	db, runID := retryingFixture(t)
	served := copyDatabase(t, db)
	url := serveDatabase(t, served)
	if code, _, stderr := run(t, nil, "runs", "cancel", runID, "--db", db, "--actor", testActor); code != exitOK {
		t.Fatalf("runs cancel --db: exit %d: %s", code, stderr)
	}
	if code, _, stderr := run(t, serverEnv(url), "runs", "cancel", runID); code != exitOK {
		t.Fatalf("runs cancel through the server: exit %d: %s", code, stderr)
	}

	const want = "completion: cancelled, 1/3 expected steps (missing decide, save), 2 attempts (1 retry), 0 tokens, $0.0000, "
	for _, way := range []struct {
		name string
		env  map[string]string
		args []string
	}{{"on the database", nil, []string{"--db", db}}, {"through the server", serverEnv(url), nil}} {
		code, stdout, stderr := run(t, way.env, append([]string{"runs", "show", runID}, way.args...)...)
		if code != exitOK {
			t.Fatalf("runs show %s: exit %d: %s", way.name, code, stderr)
		}
		if !strings.Contains(stdout, want) {
			t.Errorf("runs show %s does not print %q:\n%s", way.name, want, stdout)
		}
		code, stdout, stderr = run(t, way.env, append([]string{"runs", "show", runID, "--json"}, way.args...)...)
		var detail runDetail
		if code != exitOK || json.Unmarshal([]byte(stdout), &detail) != nil {
			t.Fatalf("runs show --json %s: exit %d: %s%s", way.name, code, stdout, stderr)
		}
		c := detail.Completion
		if c == nil {
			t.Fatalf("runs show --json %s has no completion:\n%s", way.name, stdout)
		}
		wantSteps := []klaxontype.StepAttempts{
			{Seq: 1, Step: "fetch", Attempts: 1, Completed: true},
			{Seq: 2, Step: "decide", Attempts: 1},
		}
		if c.Status != klaxontype.RunStatusCancelled || !reflect.DeepEqual(c.Steps, wantSteps) ||
			c.Attempts != 1 || c.Retries != 1 || c.Duration <= 0 {
			t.Errorf("runs show --json %s: completion %+v; want cancelled, fetch done, decide failed once, 1 retry", way.name, c)
		}
	}
}

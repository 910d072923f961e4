package main

import (
	"context"
	"encoding/json"
	"path/filepath"
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

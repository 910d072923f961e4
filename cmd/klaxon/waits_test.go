package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
)

// waitFixture makes a database with two waiting runs and no worker: one
// waits for a payment signal, one for an approval.
func waitFixture(t *testing.T) (db, paying, refunding string) {
	t.Helper()
	ctx := context.Background()
	db = filepath.Join(t.TempDir(), "waits.db")
	st, err := sqlite.Open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pay := klaxon.NewWorkflow("pay", func(ctx context.Context, _ int) (map[string]int, error) {
		return klaxon.WaitForSignal[map[string]int](ctx, "payment", klaxon.SignalTimeout(time.Hour))
	})
	refund := klaxon.NewWorkflow("refund", func(ctx context.Context, amount int) (bool, error) {
		decision, err := klaxon.AwaitApproval(ctx, "refund", klaxon.ApprovalRequest{Title: "Refund 120 EUR?", Timeout: 2 * time.Hour})
		return decision.Approved, err
	})
	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Register(pay, refund); err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	a, err := pay.Enqueue(ctx, client, 1, klaxon.WithEntity("order_id", "42"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := refund.Enqueue(ctx, client, 120)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range []string{a.Run.ID, b.Run.ID} {
		for {
			run, err := client.Run(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if run.Status == klaxontype.RunStatusWaiting {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %s is %s, never waiting", id, run.Status)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return db, a.Run.ID, b.Run.ID
}

func TestRunsSignalAndApprovals(t *testing.T) {
	t.Parallel()
	db, paying, refunding := waitFixture(t)
	payload := filepath.Join(t.TempDir(), "payment.json")
	if err := os.WriteFile(payload, []byte(`{"amount": 10}`), 0o600); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := run(t, nil, "runs", "show", paying, "--db", db)
	if code != exitOK || !strings.Contains(stdout, `waits on  signal "payment" (step 1); times out at`) {
		t.Fatalf("runs show exited %d, printed %q %s; want what the run waits for", code, stdout, stderr)
	}
	code, _, stderr = run(t, nil, "runs", "signal", paying, "payment", "--db", db)
	if code == exitOK || !strings.Contains(stderr, "--data is required") {
		t.Fatalf("runs signal without --data exited %d: %s", code, stderr)
	}
	code, stdout, stderr = run(t, nil, "runs", "signal", "--entity", "order_id=42", "payment", "--data", payload, "--db", db, "--actor", "carol")
	if code != exitOK || !strings.Contains(stdout, `signal "payment" satisfied its wait at step 1`) {
		t.Fatalf("runs signal exited %d, printed %q %s", code, stdout, stderr)
	}
	// The wait is satisfied: a second signal is kept for a next wait of
	// the name, and a third refused, since a run keeps one at a time.
	code, stdout, _ = run(t, nil, "runs", "signal", paying, "payment", "--data", payload, "--db", db)
	if code != exitOK || !strings.Contains(stdout, "kept for the run's next wait") {
		t.Fatalf("a second signal of the name exited %d: %s", code, stdout)
	}
	code, _, stderr = run(t, nil, "runs", "signal", paying, "payment", "--data", payload, "--db", db)
	if code == exitOK || !strings.Contains(stderr, "keeps a signal") || !strings.Contains(stderr, "nothing was sent") {
		t.Fatalf("a third signal of the name exited %d: %s", code, stderr)
	}

	code, stdout, stderr = run(t, nil, "approvals", "list", "--db", db)
	if code != exitOK || !strings.Contains(stdout, refunding) || !strings.Contains(stdout, "Refund 120 EUR?") {
		t.Fatalf("approvals list exited %d, printed %q %s", code, stdout, stderr)
	}
	code, _, stderr = run(t, nil, "approvals", "approve", refunding, "refund", "--db", db)
	if code == exitOK || !strings.Contains(stderr, "--comment is required") {
		t.Fatalf("approve without a comment exited %d: %s", code, stderr)
	}
	code, stdout, stderr = run(t, nil, "approvals", "reject", refunding, "refund", "--comment", "over the limit", "--actor", "alice", "--db", db, "--json")
	if code != exitOK {
		t.Fatalf("approvals reject exited %d: %s", code, stderr)
	}
	var decision klaxontype.ApprovalDecision
	if err := json.Unmarshal([]byte(stdout), &decision); err != nil || decision.Approved || decision.By != "alice" || decision.Comment != "over the limit" {
		t.Fatalf("decision %s (%v); want rejected by alice", stdout, err)
	}
	code, stdout, _ = run(t, nil, "approvals", "list", "--db", db, "--json")
	if code != exitOK || strings.TrimSpace(stdout) != "[]" {
		t.Fatalf("approvals list after the decision printed %q", stdout)
	}
}

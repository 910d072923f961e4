package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
)

// demoDeadLetters runs the demo in process with a model that panics half the
// time, and returns the database and its open dead-letter entries (all
// permanent, failed in classify or enrich).
func demoDeadLetters(t *testing.T) (string, []*klaxontype.DeadLetter) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "demo.db")
	code, _, stderr := run(t, nil, "demo", "--no-server", "--db", db, "--runs", "12", "--panic-rate", "0.5", "--error-rate", "0",
		"--slow-rate", "0", "--wrong-rate", "0", "--exit-when-done", "--seed", "3")
	if code != exitOK {
		t.Fatalf("demo exited %d: %s", code, stderr)
	}
	entries := listEntries(t, db, "--state", "open")
	if len(entries) < 3 {
		t.Fatalf("the demo left %d dead-letter entries; want at least 3", len(entries))
	}
	return db, entries
}

// triageInput is the input of the workflow classFixture builds: Fail says how
// its decide step fails.
type triageInput struct {
	Ticket int    `json:"ticket"`
	Fail   string `json:"fail"`
}

// verdict is the decide step's output type, so entries carry an object schema.
type verdict struct {
	Label string `json:"label"`
	Score int    `json:"score"`
}

// Entries classFixture creates, by failure class.
const (
	fixturePermanent = 3
	fixturePolicy    = 2
	fixtureOverflow  = 1
	fixtureEntries   = fixturePermanent + fixturePolicy + fixtureOverflow
)

// classFixture builds dead-letter entries of three classes with the root API:
// permanent and context_overflow routed to review, policy_violation to
// security. Every entry failed in step 2 "decide" after step 1 "fetch"
// completed; the runs are labelled ticket=N.
func classFixture(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "classes.db")
	st, err := sqlite.Open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	triage := klaxon.NewWorkflow("triage", func(ctx context.Context, in triageInput) (verdict, error) {
		if _, err := klaxon.Step(ctx, "fetch", func(ctx context.Context) (string, error) {
			return fmt.Sprintf("ticket %d", in.Ticket), nil
		}); err != nil {
			return verdict{}, err
		}
		return klaxon.Step(ctx, "decide", func(ctx context.Context) (verdict, error) {
			switch in.Fail {
			case "permanent":
				return verdict{}, klaxon.Permanent(errors.New("the ticket references a deleted account"))
			case "policy":
				return verdict{}, klaxon.PolicyViolation(errors.New("the model refused: content policy"))
			default:
				return verdict{}, klaxon.WithClass(klaxontype.ClassContextOverflow, errors.New("prompt of 210000 tokens exceeds the context window"))
			}
		})
	}, klaxon.ExpectSteps("fetch", "decide"))
	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Register(triage); err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	var runIDs []string
	ticket := 0
	for _, group := range []struct {
		fail  string
		count int
	}{{"permanent", fixturePermanent}, {"policy", fixturePolicy}, {"overflow", fixtureOverflow}} {
		for range group.count {
			ticket++
			result, err := triage.Enqueue(ctx, client, triageInput{Ticket: ticket, Fail: group.fail},
				klaxon.WithEntity("ticket", fmt.Sprint(ticket)))
			if err != nil {
				t.Fatal(err)
			}
			runIDs = append(runIDs, result.Run.ID)
		}
	}
	awaitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, id := range runIDs {
		run, err := client.AwaitRun(awaitCtx, id)
		var failed *klaxon.RunFailedError
		if err != nil && !errors.As(err, &failed) {
			t.Fatal(err)
		}
		if run.Status != klaxontype.RunStatusDead {
			t.Fatalf("fixture run %s ended %s; want dead", id, run.Status)
		}
	}
	if err := client.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// listEntries runs `dlq list --json` with the given filters.
func listEntries(t *testing.T, db string, filters ...string) []*klaxontype.DeadLetter {
	t.Helper()
	code, stdout, stderr := run(t, nil, append([]string{"dlq", "list", "--db", db, "--json", "--limit", "10000"}, filters...)...)
	if code != exitOK {
		t.Fatalf("dlq list %v: exit %d: %s", filters, code, stderr)
	}
	var entries []*klaxontype.DeadLetter
	if err := json.Unmarshal([]byte(stdout), &entries); err != nil {
		t.Fatalf("dlq list --json printed %q: %v", stdout, err)
	}
	return entries
}

// showEntry runs `dlq show --json`.
func showEntry(t *testing.T, db, id string) *klaxontype.DeadLetter {
	t.Helper()
	code, stdout, stderr := run(t, nil, "dlq", "show", "--db", db, id, "--json")
	if code != exitOK {
		t.Fatalf("dlq show %s: exit %d: %s", id, code, stderr)
	}
	var entry klaxontype.DeadLetter
	if err := json.Unmarshal([]byte(stdout), &entry); err != nil {
		t.Fatalf("dlq show --json printed %q: %v", stdout, err)
	}
	return &entry
}

// snapshot is every entry and every run as the CLI lists them, to check that
// a command changed nothing.
func snapshot(t *testing.T, db string) string {
	t.Helper()
	code, entries, stderr := run(t, nil, "dlq", "list", "--db", db, "--json", "--limit", "10000")
	if code != exitOK {
		t.Fatalf("dlq list: %s", stderr)
	}
	code, runs, stderr := run(t, nil, "runs", "list", "--db", db, "--json", "--limit", "10000")
	if code != exitOK {
		t.Fatalf("runs list: %s", stderr)
	}
	return entries + runs
}

func ids(entries []*klaxontype.DeadLetter) []string {
	var list []string
	for _, entry := range entries {
		list = append(list, entry.ID)
	}
	slices.Sort(list)
	return list
}

// runWithStdin is run with standard input, for --input - and --output -.
func runWithStdin(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	root := m.rootCommand()
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(context.Background())
	var usage *usageError
	switch {
	case err == nil:
		return exitOK, out.String(), errOut.String()
	case errors.As(err, &usage):
		return exitUsage, out.String(), err.Error()
	}
	return exitError, out.String(), err.Error()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDLQListFiltersAndJSONFields(t *testing.T) {
	t.Parallel()
	db := classFixture(t)

	code, stdout, stderr := run(t, nil, "dlq", "list", "--db", db, "--json")
	if code != exitOK {
		t.Fatalf("dlq list --json: exit %d: %s", code, stderr)
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil || len(raw) != fixtureEntries {
		t.Fatalf("dlq list --json: %d entries, %v:\n%s", len(raw), err, stdout)
	}
	for _, field := range []string{"id", "run_id", "workflow", "class", "reason", "step", "input", "entities", "attempts", "channel", "state", "created_at"} {
		if _, ok := raw[0][field]; !ok {
			t.Errorf("dlq list --json has no field %q: %s", field, stdout)
		}
	}
	all := listEntries(t, db)
	for _, entry := range all {
		if entry.Workflow != "triage" || entry.State != klaxontype.DeadLetterOpen || entry.Step == nil ||
			entry.Step.Name != "decide" || entry.Step.Seq != 2 || entry.Entities["ticket"] == "" || entry.Reason == "" {
			t.Errorf("entry %+v", entry)
		}
	}

	for _, tc := range []struct {
		filters []string
		want    int
	}{
		{[]string{"--class", "policy_violation"}, fixturePolicy},
		{[]string{"--class", "permanent", "--class", "context_overflow"}, fixturePermanent + fixtureOverflow},
		{[]string{"--class", "permanent,policy_violation"}, fixturePermanent + fixturePolicy},
		{[]string{"--class", "timeout"}, 0},
		{[]string{"--channel", "security"}, fixturePolicy},
		{[]string{"--channel", "review", "--class", "permanent"}, fixturePermanent},
		{[]string{"--workflow", "triage"}, fixtureEntries},
		{[]string{"--workflow", "process-document"}, 0},
		{[]string{"--entity", "ticket=4"}, 1},
		{[]string{"--entity", "ticket=99"}, 0},
		{[]string{"--state", "open"}, fixtureEntries},
		{[]string{"--state", "replayed,discarded"}, 0},
		{[]string{"--since", "1h"}, fixtureEntries},
		{[]string{"--since", "7d", "--until", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, fixtureEntries},
		{[]string{"--until", "1h"}, 0},
		{[]string{"--since", time.Now().Add(time.Hour).Format(time.RFC3339)}, 0},
	} {
		entries := listEntries(t, db, tc.filters...)
		if len(entries) != tc.want {
			t.Errorf("dlq list %v: %d entries, want %d", tc.filters, len(entries), tc.want)
		}
	}
	for _, entry := range listEntries(t, db, "--class", "policy_violation") {
		if entry.Class != klaxontype.ClassPolicyViolation || entry.Channel != "security" {
			t.Errorf("--class policy_violation listed %s in %s", entry.Class, entry.Channel)
		}
	}

	// Pages of two, newest first, cover every entry once.
	var paged []*klaxontype.DeadLetter
	before := ""
	for page := 0; page < 10; page++ {
		args := []string{"--limit", "2"}
		if before != "" {
			args = append(args, "--before", before)
		}
		code, stdout, _ := run(t, nil, append([]string{"dlq", "list", "--db", db, "--json"}, args...)...)
		var entries []*klaxontype.DeadLetter
		if code != exitOK || json.Unmarshal([]byte(stdout), &entries) != nil {
			t.Fatalf("page %d: exit %d %q", page, code, stdout)
		}
		if len(entries) == 0 {
			break
		}
		paged = append(paged, entries...)
		before = entries[len(entries)-1].ID
	}
	if !slices.Equal(ids(paged), ids(all)) {
		t.Errorf("pages of 2 listed %v; want %v", ids(paged), ids(all))
	}

	code, stdout, _ = run(t, nil, "dlq", "list", "--db", db, "--limit", "2")
	for _, want := range []string{"ID", "RUN", "WORKFLOW", "CLASS", "STEP", "CHANNEL", "STATE", "CREATED", "REASON", "2 decide", "triage", "(first 2; older entries: --before"} {
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("dlq list table lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = run(t, nil, "dlq", "list", "--db", db, "--class", "cancelled")
	if code != exitOK || !strings.Contains(stdout, "no dead-letter entries match") {
		t.Errorf("empty list: exit %d %q", code, stdout)
	}
}

func TestDLQShow(t *testing.T) {
	t.Parallel()
	db := classFixture(t)
	listed := listEntries(t, db, "--class", "policy_violation")[0]
	entry := showEntry(t, db, listed.ID)
	if entry.ID != listed.ID || entry.RunID != listed.RunID || entry.Class != klaxontype.ClassPolicyViolation {
		t.Fatalf("dlq show %s = %+v", listed.ID, entry)
	}
	if len(entry.Attempts) != 1 || entry.Attempts[0].Step != "decide" || entry.Attempts[0].Class != klaxontype.ClassPolicyViolation ||
		!strings.Contains(entry.Attempts[0].Message, "content policy") {
		t.Errorf("attempts = %+v", entry.Attempts)
	}
	var input triageInput
	if err := json.Unmarshal(entry.Input, &input); err != nil || input.Fail != "policy" || entry.Entities["ticket"] != fmt.Sprint(input.Ticket) {
		t.Errorf("input %s, entities %v", entry.Input, entry.Entities)
	}
	if len(entry.Deliveries) != 1 || entry.Deliveries[0].Channel != "security" {
		t.Errorf("deliveries = %+v", entry.Deliveries)
	}
	if len(entry.OutputSchema) == 0 {
		t.Error("no output schema of the failed step")
	}

	code, stdout, stderr := run(t, nil, "dlq", "show", "--db", db, listed.ID)
	for _, want := range []string{"Dead-letter entry " + listed.ID, listed.RunID, "policy_violation", "2 decide",
		"content policy", "Input", `"fail": "policy"`, "Output schema of step \"decide\"", "Attempts (1)", "Notifications (1)", "security"} {
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("dlq show lacks %q (exit %d, %s):\n%s", want, code, stderr, stdout)
		}
	}
}

func TestDLQReplayOneEntry(t *testing.T) {
	t.Parallel()
	db, entries := demoDeadLetters(t)
	entry := entries[0]
	if entry.Step == nil || (entry.Step.Name != "classify" && entry.Step.Name != "enrich") {
		t.Fatalf("demo entry failed at %+v", entry.Step)
	}

	// A dry run says what would happen and changes nothing.
	before := snapshot(t, db)
	code, stdout, stderr := run(t, nil, "dlq", "replay", "--db", db, entry.ID, "--dry-run")
	for _, want := range []string{"dry run", entry.ID, "keep", "extract", "run again", entry.Step.Name, "idempotency keys: kept", "nothing was changed"} {
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("replay --dry-run lacks %q (exit %d, %s):\n%s", want, code, stderr, stdout)
		}
	}
	for _, mode := range []string{"resume", "from-step", "restart"} {
		args := []string{"dlq", "replay", "--db", db, entry.ID, "--dry-run", "--json", "--mode", mode}
		if mode == "from-step" {
			args = append(args, "--step", "extract")
		}
		code, stdout, stderr := run(t, nil, args...)
		var plan replayPlanResult
		if code != exitOK || json.Unmarshal([]byte(stdout), &plan) != nil || plan.ReplayPlan == nil {
			t.Fatalf("replay --dry-run --mode %s: exit %d %q %s", mode, code, stdout, stderr)
		}
		rerunsFailed := slices.Contains(plan.RerunSteps, entry.Step.Name)
		keepsExtract := slices.Contains(plan.KeptSteps, "extract")
		if !plan.DryRun || plan.EntryID != entry.ID || string(plan.Mode) != mode || !rerunsFailed ||
			keepsExtract != (mode == "resume") || plan.NewIdempotencyKeys != (mode != "resume") {
			t.Errorf("--mode %s plan: %+v", mode, plan.ReplayPlan)
		}
	}
	if after := snapshot(t, db); after != before {
		t.Fatal("replay --dry-run changed the queue or the runs")
	}

	// A real replay: the entry is replayed and linked to its run, which is
	// pending again, and the event log names who replayed it.
	code, stdout, stderr = run(t, nil, "dlq", "replay", "--db", db, entry.ID, "--actor", "tester", "--json")
	var replayed klaxontype.DeadLetter
	if code != exitOK || json.Unmarshal([]byte(stdout), &replayed) != nil {
		t.Fatalf("replay: exit %d %q %s", code, stdout, stderr)
	}
	if replayed.State != klaxontype.DeadLetterReplayed || replayed.ReplayRunID != entry.RunID ||
		replayed.ReplayMode != klaxontype.ReplayResume || replayed.ClosedBy != "tester" {
		t.Fatalf("replayed entry = %+v", replayed)
	}
	if shown := showEntry(t, db, entry.ID); shown.State != klaxontype.DeadLetterReplayed || shown.ReplayRunID != entry.RunID {
		t.Fatalf("dlq show after replay: %+v", shown)
	}
	code, stdout, _ = run(t, nil, "runs", "show", "--db", db, entry.RunID, "--json")
	var detail runDetail
	if code != exitOK || json.Unmarshal([]byte(stdout), &detail) != nil {
		t.Fatalf("runs show: exit %d %q", code, stdout)
	}
	if detail.Run.Status != klaxontype.RunStatusPending {
		t.Errorf("replayed run is %s; want pending", detail.Run.Status)
	}
	if !slices.ContainsFunc(detail.Events, func(e *klaxontype.Event) bool {
		return e.Type == klaxontype.EventDLQReplayed && e.Actor == "tester"
	}) {
		t.Errorf("no dlq.replayed event by tester in %+v", detail.Events)
	}
	if open := listEntries(t, db, "--state", "open"); len(open) != len(entries)-1 {
		t.Errorf("%d open entries after one replay; want %d", len(open), len(entries)-1)
	}

	// Replaying it again is refused and changes nothing.
	before = snapshot(t, db)
	code, _, stderr = run(t, nil, "dlq", "replay", "--db", db, entry.ID)
	if code != exitError || !strings.Contains(stderr, "is not open") || !strings.Contains(stderr, "tester") {
		t.Errorf("second replay: exit %d %q", code, stderr)
	}
	code, stdout, _ = run(t, nil, "dlq", "replay", "--db", db, entry.ID, "--dry-run")
	if code != exitError {
		t.Errorf("dry run of a replayed entry: exit %d %q", code, stdout)
	}
	if snapshot(t, db) != before {
		t.Fatal("a refused replay changed something")
	}

	// A restart with edited input from standard input creates a new linked run.
	other := entries[1]
	code, stdout, stderr = runWithStdin(t, `{"id": "doc-fixed", "title": "Fixed", "text": "fixed text"}`,
		"dlq", "replay", "--db", db, other.ID, "--mode", "restart", "--input", "-", "--json")
	var restarted klaxontype.DeadLetter
	if code != exitOK || json.Unmarshal([]byte(stdout), &restarted) != nil {
		t.Fatalf("restart: exit %d %q %s", code, stdout, stderr)
	}
	if restarted.ReplayMode != klaxontype.ReplayRestart || restarted.ReplayRunID == "" || restarted.ReplayRunID == other.RunID {
		t.Fatalf("restarted entry = %+v", restarted)
	}
	code, stdout, _ = run(t, nil, "runs", "show", "--db", db, restarted.ReplayRunID, "--json")
	detail = runDetail{}
	if code != exitOK || json.Unmarshal([]byte(stdout), &detail) != nil || !strings.Contains(string(detail.Run.Input), "doc-fixed") {
		t.Errorf("restarted run: exit %d %q", code, stdout)
	}
}

func TestDLQBulkReplayByClass(t *testing.T) {
	t.Parallel()
	db := classFixture(t)
	policy := listEntries(t, db, "--class", "policy_violation")
	before := snapshot(t, db)

	// Filters without --all-matching, and nothing at all, are refused.
	for _, args := range [][]string{
		{"dlq", "replay", "--db", db, "--class", "policy_violation"},
		{"dlq", "replay", "--db", db},
	} {
		code, _, stderr := run(t, nil, args...)
		if code != exitUsage || !strings.Contains(stderr, "--all-matching") {
			t.Errorf("klaxon %v: exit %d %q", args, code, stderr)
		}
	}

	code, stdout, stderr := run(t, nil, "dlq", "replay", "--db", db, "--all-matching", "--class", "policy_violation", "--dry-run", "--json")
	var plan bulkReplayResult
	if code != exitOK || json.Unmarshal([]byte(stdout), &plan) != nil || plan.BulkReplayResult == nil {
		t.Fatalf("bulk dry run: exit %d %q %s", code, stdout, stderr)
	}
	slices.Sort(plan.EntryIDs)
	if !plan.DryRun || plan.Matched != fixturePolicy || plan.Replayed != 0 || !slices.Equal(plan.EntryIDs, ids(policy)) {
		t.Errorf("bulk dry run = %+v; want the %d policy entries %v", plan.BulkReplayResult, fixturePolicy, ids(policy))
	}
	code, stdout, _ = run(t, nil, "dlq", "replay", "--db", db, "--all-matching", "--class", "policy_violation", "--dry-run")
	if code != exitOK || !strings.Contains(stdout, fmt.Sprintf("%d open dead-letter entries match", fixturePolicy)) ||
		!strings.Contains(stdout, policy[0].ID) || !strings.Contains(stdout, "nothing was changed") {
		t.Errorf("bulk dry run text: exit %d\n%s", code, stdout)
	}
	if snapshot(t, db) != before {
		t.Fatal("a refused or dry-run bulk replay changed something")
	}

	code, stdout, stderr = run(t, nil, "dlq", "replay", "--db", db, "--all-matching", "--class", "policy_violation", "--actor", "oncall")
	if code != exitOK || !strings.Contains(stdout, fmt.Sprintf("replayed %d of %d", fixturePolicy, fixturePolicy)) {
		t.Fatalf("bulk replay: exit %d %q %s", code, stdout, stderr)
	}
	replayed := listEntries(t, db, "--state", "replayed")
	if !slices.Equal(ids(replayed), ids(policy)) {
		t.Errorf("replayed entries %v; want the policy ones %v", ids(replayed), ids(policy))
	}
	for _, entry := range replayed {
		if entry.ReplayRunID != entry.RunID || entry.ClosedBy != "oncall" {
			t.Errorf("replayed entry %+v", entry)
		}
	}
	if open := listEntries(t, db, "--state", "open"); len(open) != fixtureEntries-fixturePolicy {
		t.Errorf("%d entries still open; want %d", len(open), fixtureEntries-fixturePolicy)
	}

	// Nothing is left to match: a second bulk replay replays nothing.
	code, stdout, _ = run(t, nil, "dlq", "replay", "--db", db, "--all-matching", "--class", "policy_violation", "--json")
	var again bulkReplayResult
	if code != exitOK || json.Unmarshal([]byte(stdout), &again) != nil || again.Matched != 0 || again.Replayed != 0 {
		t.Errorf("second bulk replay: exit %d %q", code, stdout)
	}
}

func TestDLQBulkDiscardByClass(t *testing.T) {
	t.Parallel()
	db := classFixture(t)
	policy := listEntries(t, db, "--class", "policy_violation")
	before := snapshot(t, db)

	// Filters without --all-matching, nothing at all, and no reason are
	// refused.
	for _, args := range [][]string{
		{"dlq", "discard", "--db", db, "--class", "policy_violation", "--reason", "x"},
		{"dlq", "discard", "--db", db, "--reason", "x"},
	} {
		code, _, stderr := run(t, nil, args...)
		if code != exitUsage || !strings.Contains(stderr, "--all-matching") {
			t.Errorf("klaxon %v: exit %d %q", args, code, stderr)
		}
	}
	if code, _, stderr := run(t, nil, "dlq", "discard", "--db", db, "--all-matching", "--class", "policy_violation"); code != exitUsage || !strings.Contains(stderr, "--reason") {
		t.Errorf("bulk discard without a reason: exit %d %q", code, stderr)
	}

	code, stdout, stderr := run(t, nil, "dlq", "discard", "--db", db, "--all-matching", "--class", "policy_violation", "--reason", "test tickets", "--dry-run", "--json")
	var plan bulkDiscardResult
	if code != exitOK || json.Unmarshal([]byte(stdout), &plan) != nil || plan.BulkDiscardResult == nil {
		t.Fatalf("bulk dry run: exit %d %q %s", code, stdout, stderr)
	}
	slices.Sort(plan.EntryIDs)
	if !plan.DryRun || plan.Matched != fixturePolicy || plan.Discarded != 0 || !slices.Equal(plan.EntryIDs, ids(policy)) {
		t.Errorf("bulk dry run = %+v; want the %d policy entries %v", plan.BulkDiscardResult, fixturePolicy, ids(policy))
	}
	if snapshot(t, db) != before {
		t.Fatal("a refused or dry-run bulk discard changed something")
	}

	code, stdout, stderr = run(t, nil, "dlq", "discard", "--db", db, "--all-matching", "--class", "policy_violation", "--reason", "test tickets", "--actor", "oncall")
	if code != exitOK || !strings.Contains(stdout, fmt.Sprintf("discarded %d of %d", fixturePolicy, fixturePolicy)) {
		t.Fatalf("bulk discard: exit %d %q %s", code, stdout, stderr)
	}
	discarded := listEntries(t, db, "--state", "discarded")
	if !slices.Equal(ids(discarded), ids(policy)) {
		t.Errorf("discarded entries %v; want the policy ones %v", ids(discarded), ids(policy))
	}
	for _, entry := range discarded {
		if entry.ClosedBy != "oncall" || entry.CloseReason != "test tickets" {
			t.Errorf("discarded entry %s by %q because %q; want oncall, test tickets", entry.ID, entry.ClosedBy, entry.CloseReason)
		}
	}
	if open := listEntries(t, db, "--state", "open"); len(open) != fixtureEntries-fixturePolicy {
		t.Errorf("%d entries still open; want %d", len(open), fixtureEntries-fixturePolicy)
	}
}

func TestDLQResolve(t *testing.T) {
	t.Parallel()
	db, entries := demoDeadLetters(t)
	entry := entries[0]
	dir := t.TempDir()
	before := snapshot(t, db)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"output not of the step's type", []string{"--step", entry.Step.Name, "--output", writeFile(t, dir, "object.json", `{"category": "invoice"}`)},
			exitError, "does not fit step"},
		{"another step", []string{"--step", "transform", "--output", writeFile(t, dir, "ok.json", `"invoice"`)},
			exitError, fmt.Sprintf("failed in step %q, not \"transform\"", entry.Step.Name)},
		{"malformed output", []string{"--step", entry.Step.Name, "--output", writeFile(t, dir, "broken.json", "\"invoice")},
			exitUsage, "broken.json is not valid JSON"},
		{"missing file", []string{"--step", entry.Step.Name, "--output", filepath.Join(dir, "absent.json")},
			exitUsage, "absent.json"},
		{"no --output", []string{"--step", entry.Step.Name}, exitUsage, "--output is required"},
		{"no --step", []string{"--output", filepath.Join(dir, "ok.json")}, exitUsage, "--step is required"},
	} {
		code, _, stderr := run(t, nil, append([]string{"dlq", "resolve", "--db", db, entry.ID}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("resolve, %s: exit %d %q; want exit %d mentioning %q", tc.name, code, stderr, tc.code, tc.want)
		}
	}
	if snapshot(t, db) != before {
		t.Fatal("a refused resolve changed something")
	}

	code, stdout, stderr := run(t, nil, "dlq", "resolve", "--db", db, entry.ID, "--step", entry.Step.Name,
		"--output", filepath.Join(dir, "ok.json"), "--actor", "reviewer")
	if code != exitOK || !strings.Contains(stdout, "resolved by reviewer") {
		t.Fatalf("resolve: exit %d %q %s", code, stdout, stderr)
	}
	resolved := showEntry(t, db, entry.ID)
	if resolved.State != klaxontype.DeadLetterResolved || resolved.ClosedBy != "reviewer" {
		t.Fatalf("resolved entry = %+v", resolved)
	}
	code, stdout, _ = run(t, nil, "runs", "show", "--db", db, entry.RunID, "--json")
	var detail runDetail
	if code != exitOK || json.Unmarshal([]byte(stdout), &detail) != nil {
		t.Fatalf("runs show: exit %d %q", code, stdout)
	}
	if detail.Run.Status != klaxontype.RunStatusPending {
		t.Errorf("resolved run is %s; want pending", detail.Run.Status)
	}
	if !slices.ContainsFunc(detail.Steps, func(s *klaxontype.StepRecord) bool {
		return s.Seq == entry.Step.Seq && s.Name == entry.Step.Name && string(s.Output) == `"invoice"`
	}) {
		t.Errorf("the step log of the resolved run lacks the supplied output: %+v", detail.Steps)
	}

	// The output may come from standard input.
	code, stdout, stderr = runWithStdin(t, `"report"`, "dlq", "resolve", "--db", db, entries[1].ID,
		"--step", entries[1].Step.Name, "--output", "-", "--json")
	var second klaxontype.DeadLetter
	if code != exitOK || json.Unmarshal([]byte(stdout), &second) != nil || second.State != klaxontype.DeadLetterResolved {
		t.Errorf("resolve from standard input: exit %d %q %s", code, stdout, stderr)
	}
}

func TestDLQDiscardAndPurge(t *testing.T) {
	t.Parallel()
	db := classFixture(t)
	entry := listEntries(t, db, "--class", "context_overflow")[0]
	before := snapshot(t, db)
	code, _, stderr := run(t, nil, "dlq", "discard", "--db", db, entry.ID)
	if code != exitUsage || !strings.Contains(stderr, "--reason is required") {
		t.Errorf("discard without --reason: exit %d %q", code, stderr)
	}
	if snapshot(t, db) != before {
		t.Fatal("a refused discard changed something")
	}

	code, stdout, stderr := run(t, nil, "dlq", "discard", "--db", db, entry.ID, "--reason", "the ticket was withdrawn", "--actor", "tester")
	if code != exitOK || !strings.Contains(stdout, "discarded by tester: the ticket was withdrawn") || !strings.Contains(stdout, "stays dead") {
		t.Fatalf("discard: exit %d %q %s", code, stdout, stderr)
	}
	discarded := showEntry(t, db, entry.ID)
	if discarded.State != klaxontype.DeadLetterDiscarded || discarded.CloseReason != "the ticket was withdrawn" || discarded.ClosedBy != "tester" {
		t.Fatalf("discarded entry = %+v", discarded)
	}
	code, stdout, _ = run(t, nil, "runs", "show", "--db", db, entry.RunID, "--json")
	var detail runDetail
	if code != exitOK || json.Unmarshal([]byte(stdout), &detail) != nil || detail.Run.Status != klaxontype.RunStatusDead {
		t.Errorf("the run of a discarded entry: exit %d %q", code, stdout)
	}
	code, _, stderr = run(t, nil, "dlq", "discard", "--db", db, entry.ID, "--reason", "again")
	if code != exitError || !strings.Contains(stderr, "is not open") {
		t.Errorf("second discard: exit %d %q", code, stderr)
	}

	// Purge needs a filter or --all, and --yes to act.
	before = snapshot(t, db)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, exitUsage, "at least one filter"},
		{[]string{"--yes"}, exitUsage, "at least one filter"},
		{[]string{"--all", "--state", "discarded"}, exitUsage, "--all purges every entry"},
		{[]string{"--state", "discarded"}, exitOK, "1 dead-letter entries match; nothing was purged"},
		{[]string{"--all"}, exitOK, fmt.Sprintf("%d dead-letter entries match; nothing was purged", fixtureEntries)},
	} {
		code, stdout, stderr := run(t, nil, append([]string{"dlq", "purge", "--db", db}, tc.args...)...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("purge %v: exit %d %q %q; want exit %d mentioning %q", tc.args, code, stdout, stderr, tc.code, tc.want)
		}
	}
	if snapshot(t, db) != before {
		t.Fatal("purge without --yes changed something")
	}

	code, stdout, stderr = run(t, nil, "dlq", "purge", "--db", db, "--state", "discarded", "--yes", "--json")
	var purged purgeResult
	if code != exitOK || json.Unmarshal([]byte(stdout), &purged) != nil || purged.Purged != 1 || purged.DryRun {
		t.Fatalf("purge --yes: exit %d %q %s", code, stdout, stderr)
	}
	left := listEntries(t, db)
	if len(left) != fixtureEntries-1 || slices.Contains(ids(left), entry.ID) {
		t.Errorf("after purging the discarded entry: %v", ids(left))
	}
	code, _, stderr = run(t, nil, "dlq", "show", "--db", db, entry.ID)
	if code != exitError || !strings.Contains(stderr, "not found") {
		t.Errorf("show a purged entry: exit %d %q", code, stderr)
	}
	code, stdout, _ = run(t, nil, "dlq", "purge", "--db", db, "--class", "permanent", "--yes")
	if code != exitOK || !strings.Contains(stdout, fmt.Sprintf("purged %d dead-letter entries", fixturePermanent)) {
		t.Errorf("purge by class: exit %d %q", code, stdout)
	}
}

// Bad input to every command: a clear error, the right exit code, and no
// change to the queue or the runs.
func TestDLQBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	db := classFixture(t)
	entry := listEntries(t, db, "--class", "permanent")[0]
	dir := t.TempDir()
	broken := writeFile(t, dir, "broken.json", "{\"label\": \"spam\",\n  \"score\": }")
	empty := writeFile(t, dir, "empty.json", "")
	wrongType := writeFile(t, dir, "wrong-type.json", `["spam"]`)
	good := writeFile(t, dir, "good.json", `{"label": "spam", "score": 3}`)
	before := snapshot(t, db)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dlq", "show", "01NOPE"}, exitError, "dead-letter entry 01NOPE not found"},
		{[]string{"dlq", "show"}, exitUsage, "takes one entry ID"},
		{[]string{"dlq", "replay", "01NOPE"}, exitError, "dead-letter entry 01NOPE not found"},
		{[]string{"dlq", "replay", "01NOPE", "--dry-run"}, exitError, "dead-letter entry 01NOPE not found"},
		{[]string{"dlq", "resolve", "01NOPE", "--step", "decide", "--output", good}, exitError, "dead-letter entry 01NOPE not found"},
		{[]string{"dlq", "discard", "01NOPE", "--reason", "x"}, exitError, "dead-letter entry 01NOPE not found"},

		{[]string{"dlq", "list", "--class", "perm"}, exitUsage, `--class "perm" is not a failure class (transient, rate_limited, timeout, permanent, policy_violation`},
		{[]string{"dlq", "list", "--state", "closed"}, exitUsage, `--state "closed" is not a dead-letter state (open, replayed, resolved, discarded)`},
		{[]string{"dlq", "list", "--entity", "ticket"}, exitUsage, `--entity "ticket" is not key=value`},
		{[]string{"dlq", "list", "--since", "yesterday"}, exitUsage, `--since "yesterday" is neither an RFC 3339 time`},
		{[]string{"dlq", "list", "--since", "1h", "--until", "2h"}, exitUsage, "is not before --until"},
		{[]string{"dlq", "list", "--limit", "0"}, exitUsage, "--limit must be between 1 and 10000"},
		{[]string{"dlq", "replay", "--all-matching", "--class", "perm"}, exitUsage, `--class "perm" is not a failure class`},
		{[]string{"dlq", "purge", "--class", "perm", "--yes"}, exitUsage, `--class "perm" is not a failure class`},
		{[]string{"dlq", "purge", "--state", "gone", "--yes"}, exitUsage, `--state "gone" is not a dead-letter state`},

		{[]string{"dlq", "replay", entry.ID, "--input", broken}, exitUsage, "--input " + broken + " is not valid JSON: line 2"},
		{[]string{"dlq", "replay", entry.ID, "--input", empty}, exitUsage, "empty.json is not valid JSON"},
		{[]string{"dlq", "replay", entry.ID, "--input", filepath.Join(dir, "absent.json")}, exitUsage, "absent.json"},
		{[]string{"dlq", "replay", entry.ID, "--mode", "from-step"}, exitUsage, "--mode from-step needs --step"},
		{[]string{"dlq", "replay", entry.ID, "--step", "fetch"}, exitUsage, "--step is for --mode from-step"},
		{[]string{"dlq", "replay", entry.ID, "--mode", "rewind"}, exitUsage, `--mode "rewind" is not a replay mode (resume, from-step, restart)`},
		{[]string{"dlq", "replay", entry.ID, "--mode", "from-step", "--step", "nope"}, exitError, `step "nope" is not in the step log`},
		{[]string{"dlq", "replay", "--all-matching", "--class", "permanent", "--mode", "from-step", "--step", "nope"}, exitError,
			fmt.Sprintf("%d of %d matching entries were not replayed", fixturePermanent, fixturePermanent)},
		{[]string{"dlq", "replay", entry.ID, "--all-matching"}, exitUsage, "not both"},
		{[]string{"dlq", "replay", entry.ID, "--class", "permanent"}, exitUsage, "leave them out"},
		{[]string{"dlq", "replay", "--all-matching", "--input", good}, exitUsage, "--input replaces one run's input"},
		{[]string{"dlq", "replay", entry.ID, "other"}, exitUsage, "takes one entry ID or --all-matching"},

		{[]string{"dlq", "resolve", entry.ID, "--step", "decide", "--output", broken}, exitUsage, "broken.json is not valid JSON: line 2"},
		{[]string{"dlq", "resolve", entry.ID, "--step", "decide", "--output", wrongType}, exitError, `does not fit step "decide"`},
		{[]string{"dlq", "resolve", entry.ID, "--step", "fetch", "--output", good}, exitError, `failed in step "decide", not "fetch"`},
		{[]string{"dlq", "resolve", entry.ID, "--output", good}, exitUsage, "--step is required"},

		{[]string{"dlq", "discard", entry.ID}, exitUsage, "--reason is required"},
		{[]string{"dlq", "discard", entry.ID, "--reason", "   "}, exitUsage, "--reason is required"},
		{[]string{"dlq", "purge"}, exitUsage, "at least one filter"},
		{[]string{"dlq", "bogus"}, exitUsage, `unknown command "bogus" for "klaxon dlq"`},
	} {
		code, _, stderr := run(t, nil, append(tc.args, "--db", db)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("klaxon %s: exit %d, stderr %q; want exit %d mentioning %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
		}
		if after := snapshot(t, db); after != before {
			t.Fatalf("klaxon %s changed the queue or the runs", strings.Join(tc.args, " "))
		}
	}

	// A database that does not exist is neither created nor migrated.
	missing := filepath.Join(dir, "typo.db")
	for _, args := range [][]string{
		{"dlq", "list"}, {"dlq", "show", entry.ID}, {"dlq", "replay", entry.ID},
		{"dlq", "discard", entry.ID, "--reason", "x"}, {"dlq", "purge", "--all", "--yes"},
	} {
		code, _, stderr := run(t, nil, append(args, "--db", missing)...)
		if code != exitError || !strings.Contains(stderr, "typo.db does not exist") {
			t.Errorf("klaxon %s on a missing database: exit %d %q", strings.Join(args, " "), code, stderr)
		}
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Fatalf("klaxon %s created the database", strings.Join(args, " "))
		}
	}
}

// A replay's new budget is checked before anything is opened.
func TestReplayBudgetFlagsAreChecked(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "none.db")
	code, _, stderr := run(t, nil, "dlq", "replay", "01JENTRY", "--db", db, "--budget-tokens", "-5")
	if code != exitUsage || !strings.Contains(stderr, "--budget-tokens and --budget-usd take a positive number") {
		t.Fatalf("negative budget: exit %d %q", code, stderr)
	}
}

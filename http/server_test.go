package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	for _, path := range []string{"/healthz", "/readyz"} {
		// Health checks need no token: a load balancer has none.
		if r := f.do(http.MethodGet, path, "", ""); r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
	}
	ctx := context.Background()
	if err := f.client("").Ready(ctx); err != nil {
		t.Fatal(err)
	}
	stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := f.worker.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	f.closeStore()
	f.do(http.MethodGet, "/readyz", "", "").wantProblem(t, http.StatusServiceUnavailable, "store")
}

func TestEnqueueAndInspectRuns(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	ctx := context.Background()
	client := f.client(operateSecret)

	created, err := client.Enqueue(ctx, &klaxonhttp.EnqueueRequest{
		Workflow: "greet", Input: json.RawMessage(`"ada"`), IdempotencyKey: "greet-ada",
		Entities: map[string]string{"person": "ada"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.Deduplicated || created.Run.Workflow != "greet" || created.Run.Entities["person"] != "ada" {
		t.Fatalf("enqueue answered %+v", created)
	}
	r := f.do(http.MethodPost, "/api/v1/runs", operateSecret, `{"workflow":"greet","input":"ada","idempotency_key":"greet-ada"}`)
	if r.status != http.StatusOK {
		t.Fatalf("repeated enqueue: %d %s, want 200", r.status, r.body)
	}
	var again klaxonhttp.EnqueueResponse
	r.decode(t, &again)
	if !again.Deduplicated || again.Run.ID != created.Run.ID {
		t.Fatalf("repeated enqueue returned %+v, want run %s deduplicated", again, created.Run.ID)
	}
	if r := f.do(http.MethodPost, "/api/v1/runs", operateSecret, `{"workflow":"greet","input":"bob"}`); r.status != http.StatusCreated {
		t.Fatalf("new enqueue: %d %s, want 201", r.status, r.body)
	}

	f.awaitStatus(created.Run.ID, klaxontype.RunStatusCompleted)
	detail, err := f.client(readSecret).Run(ctx, created.Run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(detail.Steps) != 2 || detail.Manifest == nil || len(detail.Manifest.Missing) != 0 || len(detail.Manifest.Executed) != 2 {
		t.Fatalf("run detail: steps %d, manifest %+v", len(detail.Steps), detail.Manifest)
	}
	if detail.Events[0].Type != klaxontype.EventRunEnqueued || detail.Events[0].Actor != "operator" {
		t.Fatalf("first event %+v, want run.enqueued by operator", detail.Events[0])
	}
	// The run.completed event carries the run's completion record, as JSON.
	r = f.do(http.MethodGet, "/api/v1/runs/"+created.Run.ID, readSecret, "")
	var raw struct {
		Events []struct {
			Type   klaxontype.EventType `json:"type"`
			Record json.RawMessage      `json:"record"`
		} `json:"events"`
	}
	r.decode(t, &raw)
	if last := raw.Events[len(raw.Events)-1]; last.Type != klaxontype.EventRunCompleted ||
		!strings.Contains(string(last.Record), `"manifest":{"expected":["hello","shout"],"executed":["hello","shout"],"missing":[]}`) {
		t.Fatalf("last event %s with record %s; want run.completed with the manifest", last.Type, last.Record)
	}
	if _, err := f.client(readSecret).Run(ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV"); !errors.Is(err, klaxontype.ErrNotFound) {
		t.Fatalf("unknown run: %v, want ErrNotFound", err)
	}

	// Two runs: pages of one, then the end.
	reader := f.client(readSecret)
	page, err := reader.Runs(ctx, &klaxonhttp.RunQuery{Workflow: "greet", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Runs) != 1 || page.NextCursor == "" {
		t.Fatalf("first page %+v", page)
	}
	last, err := reader.Runs(ctx, &klaxonhttp.RunQuery{Workflow: "greet", Limit: 1, Cursor: page.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(last.Runs) != 1 || last.NextCursor != "" || last.Runs[0].ID == page.Runs[0].ID {
		t.Fatalf("second page %+v after %s", last, page.Runs[0].ID)
	}
	byEntity, err := reader.Runs(ctx, &klaxonhttp.RunQuery{
		Entities: map[string]string{"person": "ada"}, Statuses: []klaxontype.RunStatus{klaxontype.RunStatusCompleted},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(byEntity.Runs) != 1 || byEntity.Runs[0].ID != created.Run.ID {
		t.Fatalf("runs of person=ada: %+v", byEntity.Runs)
	}
	r = f.do(http.MethodGet, "/api/v1/runs?status=completed,pending&entity=person=nobody", readSecret, "")
	var none klaxonhttp.RunPage
	r.decode(t, &none)
	if r.status != http.StatusOK || none.Runs == nil || len(none.Runs) != 0 {
		t.Fatalf("runs of nobody: %d %s, want an empty list", r.status, r.body)
	}
}

func TestListRunsByTime(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	ctx := context.Background()
	operator := f.client(operateSecret)
	var runs []*klaxontype.Run
	for i := range 3 {
		if i > 0 {
			// Distinct enqueue times, so that a time between two runs splits them.
			time.Sleep(5 * time.Millisecond)
		}
		// charge runs end dead and stay put; what matters is when they were enqueued.
		created, err := operator.Enqueue(ctx, &klaxonhttp.EnqueueRequest{Workflow: "charge", Input: json.RawMessage(`1`)})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, created.Run)
	}
	between := func(earlier, later *klaxontype.Run) time.Time {
		return earlier.CreatedAt.Add(later.CreatedAt.Sub(earlier.CreatedAt) / 2)
	}
	ids := func(page *klaxonhttp.RunPage) []string {
		var ids []string
		for _, run := range page.Runs {
			ids = append(ids, run.ID)
		}
		return ids
	}

	reader := f.client(readSecret)
	for _, c := range []struct {
		name  string
		query klaxonhttp.RunQuery
		want  []string
	}{
		{"since", klaxonhttp.RunQuery{Since: between(runs[0], runs[1])}, []string{runs[2].ID, runs[1].ID}},
		{"until", klaxonhttp.RunQuery{Until: between(runs[1], runs[2])}, []string{runs[1].ID, runs[0].ID}},
		{"since and until", klaxonhttp.RunQuery{Since: between(runs[0], runs[1]), Until: between(runs[1], runs[2])}, []string{runs[1].ID}},
		{"since is inclusive", klaxonhttp.RunQuery{Since: runs[2].CreatedAt}, []string{runs[2].ID}},
		{"until is exclusive", klaxonhttp.RunQuery{Until: runs[0].CreatedAt}, nil},
		{"since with a page", klaxonhttp.RunQuery{Since: between(runs[0], runs[1]), Limit: 1}, []string{runs[2].ID}},
	} {
		page, err := reader.Runs(ctx, &c.query)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := ids(page); !slices.Equal(got, c.want) {
			t.Errorf("%s: runs %v, want %v", c.name, got, c.want)
		}
	}

	// A time in another zone, as a person would type it, means the same instant.
	zone := time.FixedZone("", 2*60*60)
	since := between(runs[0], runs[1]).In(zone).Format(time.RFC3339Nano)
	r := f.do(http.MethodGet, "/api/v1/runs?since="+url.QueryEscape(since), readSecret, "")
	var page klaxonhttp.RunPage
	r.decode(t, &page)
	if r.status != http.StatusOK || !slices.Equal(ids(&page), []string{runs[2].ID, runs[1].ID}) {
		t.Fatalf("runs since %s: %d %s, want %s and %s", since, r.status, r.body, runs[2].ID, runs[1].ID)
	}
}

func TestWorkflows(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	ctx := context.Background()
	client := f.client("")
	run, err := client.Enqueue(ctx, &klaxonhttp.EnqueueRequest{Workflow: "greet", Input: json.RawMessage(`"x"`)})
	if err != nil {
		t.Fatal(err)
	}
	f.awaitStatus(run.Run.ID, klaxontype.RunStatusCompleted)
	workflows, err := client.Workflows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, w := range workflows {
		names = append(names, w.Name)
		if w.Name == "greet" && (w.Runs[klaxontype.RunStatusCompleted] != 1 || !slices.Equal(w.ExpectedSteps, []string{"hello", "shout"})) {
			t.Fatalf("greet: %+v", w)
		}
		if len(w.Runs) != len(klaxontype.RunStatuses()) {
			t.Fatalf("%s counts %d statuses, want all %d", w.Name, len(w.Runs), len(klaxontype.RunStatuses()))
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"charge", "greet"}) {
		t.Fatalf("workflows %v", names)
	}
	// Without tokens, the actor is anonymous.
	detail, err := client.Run(ctx, run.Run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if detail.Events[0].Actor != "anonymous" {
		t.Fatalf("actor %q, want anonymous", detail.Events[0].Actor)
	}
}

func TestDeadLetterQueue(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	ctx := context.Background()
	operator, reader := f.client(operateSecret), f.client(readSecret)
	first := f.deadEntry(operateSecret, map[string]string{"order": "1"})
	second := f.deadEntry(operateSecret, map[string]string{"order": "2"})
	third := f.deadEntry(operateSecret, map[string]string{"order": "3"})

	page, err := reader.DeadLetters(ctx, &klaxonhttp.DeadLetterQuery{
		Classes: []klaxontype.FailureClass{klaxontype.ClassPermanent}, States: []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen},
		Workflow: "charge", Limit: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 2 || page.Entries[0].ID != third.ID || page.NextCursor == "" {
		t.Fatalf("first page: %d entries, next %q", len(page.Entries), page.NextCursor)
	}
	rest, err := reader.DeadLetters(ctx, &klaxonhttp.DeadLetterQuery{Workflow: "charge", Limit: 2, Cursor: page.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Entries) != 1 || rest.Entries[0].ID != first.ID || rest.NextCursor != "" {
		t.Fatalf("second page: %+v", rest)
	}
	byEntity, err := reader.DeadLetters(ctx, &klaxonhttp.DeadLetterQuery{Entities: map[string]string{"order": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(byEntity.Entries) != 1 || byEntity.Entries[0].ID != second.ID {
		t.Fatalf("entries of order=2: %+v", byEntity.Entries)
	}
	byRun, err := reader.DeadLetters(ctx, &klaxonhttp.DeadLetterQuery{Run: third.RunID})
	if err != nil {
		t.Fatal(err)
	}
	if len(byRun.Entries) != 1 || byRun.Entries[0].ID != third.ID {
		t.Fatalf("entries of run %s: %+v", third.RunID, byRun.Entries)
	}
	entry, err := reader.DeadLetter(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(entry.Attempts) == 0 || entry.Step == nil || entry.Step.Name != "charge" {
		t.Fatalf("entry %+v", entry)
	}

	// A dry run plans and changes nothing.
	plan, err := operator.Replay(ctx, first.ID, &klaxonhttp.ReplayRequest{Mode: klaxontype.ReplayRestart, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.DryRun || plan.Entry != nil || plan.Plan.Mode != klaxontype.ReplayRestart || !plan.Plan.NewIdempotencyKeys {
		t.Fatalf("dry run %+v", plan)
	}
	if entry, _ := reader.DeadLetter(ctx, first.ID); entry.State != klaxontype.DeadLetterOpen {
		t.Fatalf("a dry run left the entry %s", entry.State)
	}
	replayed, err := operator.Replay(ctx, first.ID, &klaxonhttp.ReplayRequest{Mode: klaxontype.ReplayRestart})
	if err != nil {
		t.Fatal(err)
	}
	if replayed.Entry.State != klaxontype.DeadLetterReplayed || replayed.Entry.ClosedBy != "operator" || replayed.Entry.ReplayRunID == "" {
		t.Fatalf("replayed entry %+v", replayed.Entry)
	}
	if r := f.do(http.MethodPost, "/api/v1/dlq/"+first.ID+"/replay", operateSecret, ""); r.status != http.StatusConflict {
		t.Fatalf("replay without a body: %d %s, want 409", r.status, r.body)
	}
	if _, err := operator.Replay(ctx, first.ID, nil); !errors.Is(err, klaxontype.ErrEntryNotOpen) {
		t.Fatalf("second replay: %v, want ErrEntryNotOpen (409)", err)
	}

	// Resolve with the failed step's output; the run completes.
	resolved, err := operator.Resolve(ctx, second.ID, "charge", json.RawMessage(`12`))
	if err != nil {
		t.Fatal(err)
	}
	if resolved.State != klaxontype.DeadLetterResolved || resolved.ClosedBy != "operator" {
		t.Fatalf("resolved entry %+v", resolved)
	}
	f.awaitStatus(second.RunID, klaxontype.RunStatusCompleted)
	if _, err := operator.Resolve(ctx, third.ID, "not-the-step", json.RawMessage(`1`)); !errors.Is(err, klaxontype.ErrInvalid) {
		t.Fatalf("resolving another step: %v, want ErrInvalid (422)", err)
	}

	discarded, err := operator.Discard(ctx, third.ID, "refunded by hand")
	if err != nil {
		t.Fatal(err)
	}
	if discarded.State != klaxontype.DeadLetterDiscarded || discarded.ClosedBy != "operator" || discarded.CloseReason != "refunded by hand" {
		t.Fatalf("discarded entry %+v", discarded)
	}
}

func TestBulkReplay(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	ctx := context.Background()
	operator := f.client(operateSecret)
	for range 3 {
		f.deadEntry(operateSecret, map[string]string{"batch": "a"})
	}
	other := f.deadEntry(operateSecret, map[string]string{"batch": "b"})

	if _, err := operator.ReplayMatching(ctx, &klaxonhttp.BulkReplayRequest{DryRun: true}); !errors.Is(err, klaxontype.ErrInvalid) {
		t.Fatalf("bulk replay without a filter: %v, want ErrInvalid", err)
	}
	filter := klaxonhttp.DeadLetterFilter{Workflow: "charge", Entities: map[string]string{"batch": "a"}}
	dry, err := operator.ReplayMatching(ctx, &klaxonhttp.BulkReplayRequest{Filter: filter, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry.Matched != 3 || dry.Replayed != 0 || len(dry.EntryIDs) != 3 {
		t.Fatalf("dry run %+v", dry)
	}
	done, err := operator.ReplayMatching(ctx, &klaxonhttp.BulkReplayRequest{Filter: filter, Mode: klaxontype.ReplayRestart})
	if err != nil {
		t.Fatal(err)
	}
	if done.Matched != 3 || done.Replayed != 3 {
		t.Fatalf("bulk replay %+v", done)
	}
	if entry, _ := operator.DeadLetter(ctx, other.ID); entry.State != klaxontype.DeadLetterOpen {
		t.Fatalf("an entry outside the filter is %s", entry.State)
	}
}

func TestBulkDiscard(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	ctx := context.Background()
	operator := f.client(operateSecret)
	for range 3 {
		f.deadEntry(operateSecret, map[string]string{"batch": "a"})
	}
	other := f.deadEntry(operateSecret, map[string]string{"batch": "b"})

	filter := klaxonhttp.DeadLetterFilter{Workflow: "charge", Entities: map[string]string{"batch": "a"}}
	dry, err := operator.DiscardMatching(ctx, &klaxonhttp.BulkDiscardRequest{Filter: filter, Reason: "refunded by hand", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry.Matched != 3 || dry.Discarded != 0 || len(dry.EntryIDs) != 3 {
		t.Fatalf("dry run %+v", dry)
	}
	done, err := operator.DiscardMatching(ctx, &klaxonhttp.BulkDiscardRequest{Filter: filter, Reason: "refunded by hand"})
	if err != nil {
		t.Fatal(err)
	}
	if done.Matched != 3 || done.Discarded != 3 {
		t.Fatalf("bulk discard %+v", done)
	}
	for _, id := range done.EntryIDs {
		entry, _ := operator.DeadLetter(ctx, id)
		if entry.State != klaxontype.DeadLetterDiscarded || entry.ClosedBy != "operator" || entry.CloseReason != "refunded by hand" {
			t.Fatalf("entry %s after the bulk discard: state %s by %q for %q", id, entry.State, entry.ClosedBy, entry.CloseReason)
		}
	}
	if entry, _ := operator.DeadLetter(ctx, other.ID); entry.State != klaxontype.DeadLetterOpen {
		t.Fatalf("an entry outside the filter is %s", entry.State)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	ctx := context.Background()
	// A workflow no worker of this test runs: its runs stay pending.
	err := f.store.WorkflowRegister(ctx, &store.WorkflowRegisterParams{Name: "idle", Version: 1, ExpectedSteps: []string{"draft", "send"}})
	if err != nil {
		t.Fatal(err)
	}
	operator := f.client(operateSecret)
	pending, err := operator.Enqueue(ctx, &klaxonhttp.EnqueueRequest{Workflow: "idle"})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, err := operator.Cancel(ctx, pending.Run.ID, "enqueued by mistake")
	if err != nil {
		t.Fatal(err)
	}
	if cancelled.Status != klaxontype.RunStatusCancelled {
		t.Fatalf("cancelled run is %s", cancelled.Status)
	}
	detail, err := operator.Run(ctx, pending.Run.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := detail.Events[len(detail.Events)-1]
	if last.Actor != "operator" {
		t.Fatalf("last event %+v, want one by operator", last)
	}
	// Its run.cancelled event carries the completion record: nothing of the
	// manifest ran, in no attempt.
	record := last.Record
	if last.Type != klaxontype.EventRunCancelled || record == nil {
		t.Fatalf("last event %+v; want run.cancelled with a completion record", last)
	}
	if record.Status != klaxontype.RunStatusCancelled || record.FailureClass != klaxontype.ClassCancelled ||
		!slices.Equal(record.Manifest.Missing, []string{"draft", "send"}) || len(record.Manifest.Executed) != 0 ||
		record.Attempts != 0 || record.StepAttemptsTotal() != 0 || record.Duration <= 0 {
		t.Errorf("run.cancelled record %+v; want cancelled, draft and send missing, no attempts, a duration", record)
	}
	// Cancelling again, or a completed run, is a 409 that says why.
	if _, err := operator.Cancel(ctx, pending.Run.ID, ""); !errors.Is(err, klaxontype.ErrRunNotCancellable) {
		t.Fatalf("second cancel: %v, want ErrRunNotCancellable", err)
	}
	if r := f.do(http.MethodPost, "/api/v1/runs/"+pending.Run.ID+"/cancel", operateSecret, ""); r.status != http.StatusConflict {
		t.Fatalf("cancel without a body: %d %s", r.status, r.body)
	}
	if _, err := operator.Cancel(ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV", ""); !errors.Is(err, klaxontype.ErrNotFound) {
		t.Fatalf("cancel of an unknown run: %v", err)
	}
	if _, err := f.client(readSecret).Cancel(ctx, pending.Run.ID, ""); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("cancel with a read token: %v", err)
	}
}

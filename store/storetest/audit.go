package storetest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testAudit checks that every operator action leaves one audit record, in
// the transaction of the act, and that the log filters and pages.
func testAudit(t *testing.T, h *harness) {
	t.Run("EveryActionIsRecorded", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		before := time.Now().Add(-time.Second)
		_, resolveID := f.deadRun(death{Run: store.RunEnqueueParams{Workflow: "a"}, Steps: []string{"fetch"}})
		_, replayID := f.deadRun(death{Run: store.RunEnqueueParams{Workflow: "b"}, Steps: []string{"fetch"}})
		_, discardID := f.deadRun(death{Run: store.RunEnqueueParams{Workflow: "c"}, Steps: []string{"fetch"}})
		pending := f.runIn(klaxontype.RunStatusPending, &store.RunEnqueueParams{Workflow: "d"})

		act := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		resolveEntry := f.entry(resolveID)
		_, err := f.store.DLQResolve(f.ctx, &store.DLQResolveParams{
			EntryID: resolveID, Step: "summarize", Output: []byte(`{"summary": "by hand"}`),
			IdempotencyKey: stepKey(resolveEntry.RunID, 2, "summarize"), Actor: "alice",
		})
		act("DLQResolve", err)
		_, err = f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: replayID, Mode: klaxontype.ReplayFromStep, Step: "fetch", Actor: "bob"})
		act("DLQReplay", err)
		_, err = f.store.OutboxGiveUp(f.ctx, &store.OutboxGiveUpParams{Channel: reviewChannel, Reason: "endpoint removed", Actor: "carol"})
		act("OutboxGiveUp", err)
		_, err = f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: discardID, Reason: "known bad batch", Actor: "bob"})
		act("DLQDiscard", err)
		_, err = f.store.RunCancel(f.ctx, &store.RunCancelParams{ID: pending.ID, Reason: "customer withdrew", Actor: "alice"})
		act("RunCancel", err)
		_, err = f.store.BreakerTrip(f.ctx, &store.BreakerTripParams{Workflow: "a", Reason: "retry storm", Until: time.Now().Add(time.Hour), Actor: "engine"})
		act("BreakerTrip", err)
		act("BreakerReset", f.store.BreakerReset(f.ctx, &store.BreakerResetParams{Workflow: "a", Actor: "carol"}))
		purged, err := f.store.DLQPurge(f.ctx, &store.DLQPurgeParams{
			Filter: store.DLQListParams{States: []klaxontype.DeadLetterState{klaxontype.DeadLetterDiscarded}}, Actor: "admin",
		})
		act("DLQPurge", err)
		after := time.Now().Add(time.Second)
		if purged != 1 {
			t.Fatalf("purged %d entries; want the discarded one", purged)
		}

		records := f.audit(&store.AuditListParams{})
		want := []struct {
			action klaxontype.AuditAction
			actor  string
			target string
			param  string
		}{
			{klaxontype.AuditDLQPurge, "admin", "dead-letter queue", "entries"},
			{klaxontype.AuditBreakerReset, "carol", "a", ""},
			{klaxontype.AuditRunCancel, "alice", pending.ID, "reason"},
			{klaxontype.AuditDLQDiscard, "bob", discardID, "reason"},
			{klaxontype.AuditOutboxGiveUp, "carol", reviewChannel, "reason"},
			{klaxontype.AuditDLQReplay, "bob", replayID, "mode"},
			{klaxontype.AuditDLQResolve, "alice", resolveID, "step"},
		}
		if len(records) != len(want) {
			t.Fatalf("%d audit records; want %d, one per action (a breaker tripped by the engine is no operator action): %+v", len(records), len(want), records)
		}
		for i, w := range want {
			r := records[i]
			if r.Action != w.action || r.Actor != w.actor || r.Target != w.target {
				t.Errorf("record %d is %s by %s on %q; want %s by %s on %q", i, r.Action, r.Actor, r.Target, w.action, w.actor, w.target)
			}
			if r.Result == "" || r.At.Before(before) || r.At.After(after) || r.ID <= 0 {
				t.Errorf("record %d (%s): result %q, at %s, ID %d; want a result, a time of the act and an ID", i, r.Action, r.Result, r.At, r.ID)
			}
			var params map[string]any
			if err := json.Unmarshal(r.Params, &params); err != nil {
				t.Errorf("record %d (%s): params %q are not a JSON object: %v", i, r.Action, r.Params, err)
			} else if _, ok := params[w.param]; w.param != "" && !ok {
				t.Errorf("record %d (%s): params %s lack %q", i, r.Action, r.Params, w.param)
			}
			if i > 0 && r.ID >= records[i-1].ID {
				t.Errorf("records are not newest first: %d after %d", r.ID, records[i-1].ID)
			}
		}

		if got := f.audit(&store.AuditListParams{Action: klaxontype.AuditDLQReplay}); len(got) != 1 || got[0].Target != replayID {
			t.Errorf("filtered by action: %d records; want the replay", len(got))
		}
		if got := f.audit(&store.AuditListParams{Actor: "bob"}); len(got) != 2 {
			t.Errorf("filtered by actor: %d records; want bob's two", len(got))
		}
		if got := f.audit(&store.AuditListParams{Since: after}); len(got) != 0 {
			t.Errorf("filtered by a time after every act: %d records; want none", len(got))
		}
		page := f.audit(&store.AuditListParams{Limit: 3})
		rest := f.audit(&store.AuditListParams{BeforeID: page[len(page)-1].ID})
		if len(page) != 3 || len(rest) != 4 || rest[0].ID >= page[2].ID {
			t.Errorf("pages of 3 then the rest: %d and %d records; want 3 and 4, older", len(page), len(rest))
		}
		_, err = f.store.AuditList(f.ctx, &store.AuditListParams{Action: "dlq.replya"})
		checkErrorIs(t, "AuditList of an unknown action", err, klaxontype.ErrInvalid)
	})
}

// testAuditEnqueuesAndRequests checks the records that have no rule of their
// own: an operator's enqueue, written with the run, and an appended record.
func testAuditEnqueuesAndRequests(t *testing.T, h *harness) {
	t.Run("AuditedEnqueues", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		// A program's own enqueue is no operator action.
		f.enqueue(&store.RunEnqueueParams{Workflow: "quiet"})
		// With a key and without one (the two write paths of a store).
		plain := f.enqueue(&store.RunEnqueueParams{Workflow: "billing", Actor: "ci-bot", Audit: true})
		keyed := f.enqueue(&store.RunEnqueueParams{Workflow: "billing", Actor: "ci-bot", Audit: true,
			IdempotencyKey: "invoice-7", Entities: map[string]string{"invoice_id": "7"}, Input: []byte(`{"card": "4242"}`)})
		again, created, err := f.store.RunEnqueue(f.ctx, &store.RunEnqueueParams{ID: newRunID(), Workflow: "billing", WorkflowVersion: 1,
			Input: []byte(`{}`), IdempotencyKey: "invoice-7", Actor: "alice", Audit: true})
		if err != nil || created || again.ID != keyed.ID {
			t.Fatalf("a second enqueue of the key: %v, created %v; want the first run", err, created)
		}
		records := f.audit(&store.AuditListParams{Action: klaxontype.AuditRunEnqueue})
		if len(records) != 3 {
			t.Fatalf("%d run.enqueue records: %+v; want the three audited enqueues", len(records), records)
		}
		for i, want := range []struct{ actor, target, params string }{
			{"alice", keyed.ID, `{"idempotency_key":"invoice-7","workflow":"billing"}`},
			{"ci-bot", keyed.ID, `{"entities":{"invoice_id":"7"},"idempotency_key":"invoice-7","workflow":"billing"}`},
			{"ci-bot", plain.ID, `{"workflow":"billing"}`},
		} {
			r := records[i]
			var got, wantParams any
			_ = json.Unmarshal(r.Params, &got)
			_ = json.Unmarshal([]byte(want.params), &wantParams)
			if r.Actor != want.actor || r.Target != want.target || !reflect.DeepEqual(got, wantParams) || r.Result == "" {
				t.Errorf("record %d: %s on %s, params %s, result %q; want %s on %s, params %s", i, r.Actor, r.Target, r.Params, r.Result,
					want.actor, want.target, want.params)
			}
		}
		if records[0].Result == records[1].Result {
			t.Errorf("a deduplicated enqueue reads like a created one: %q", records[0].Result)
		}
	})

	t.Run("AuditAppend", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		err := f.store.AuditAppend(f.ctx, &store.AuditAppendParams{Actor: "ops", Action: klaxontype.AuditAdminRequest,
			Target: "POST /api/v1/dlq/purge", Params: map[string]any{"operation": "purge-dead-letters"}, Result: "200 OK"})
		if err != nil {
			t.Fatalf("AuditAppend: %v", err)
		}
		records := f.audit(&store.AuditListParams{Action: klaxontype.AuditAdminRequest, Actor: "ops"})
		if len(records) != 1 || records[0].Target != "POST /api/v1/dlq/purge" || string(records[0].Params) == "" || records[0].Result != "200 OK" {
			t.Fatalf("admin requests: %+v; want the one appended", records)
		}
		for _, bad := range []*store.AuditAppendParams{
			{Actor: "ops", Action: "admin.requested", Target: "GET /"},
			{Action: klaxontype.AuditAdminRequest, Target: "GET /"},
			{Actor: "ops", Action: klaxontype.AuditAdminRequest},
		} {
			checkErrorIs(t, "AuditAppend of a bad record", f.store.AuditAppend(f.ctx, bad), klaxontype.ErrInvalid)
		}
		if got := f.audit(&store.AuditListParams{}); len(got) != 1 {
			t.Errorf("after refused records: %d in the log; want 1", len(got))
		}
	})
}

// audit lists audit records and fails the test on an error.
func (f *fixture) audit(params *store.AuditListParams) []*klaxontype.AuditRecord {
	f.t.Helper()
	records, err := f.store.AuditList(f.ctx, params)
	if err != nil {
		f.t.Fatalf("AuditList: %v", err)
	}
	return records
}

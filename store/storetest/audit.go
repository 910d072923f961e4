package storetest

import (
	"encoding/json"
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

// audit lists audit records and fails the test on an error.
func (f *fixture) audit(params *store.AuditListParams) []*klaxontype.AuditRecord {
	f.t.Helper()
	records, err := f.store.AuditList(f.ctx, params)
	if err != nil {
		f.t.Fatalf("AuditList: %v", err)
	}
	return records
}

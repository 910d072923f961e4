package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testDLQGroups checks DLQCountByClassAndChannel: the dead-letter queue a
// person filters, counted by class and channel, with DLQList's filters.
func testDLQGroups(t *testing.T, h *harness) {
	t.Run("ByClassAndChannel", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.checkGroups(&store.DLQListParams{}, nil)
		type spec struct {
			workflow string
			class    klaxontype.FailureClass
			channel  string
			entities map[string]string
		}
		specs := []spec{
			{testWorkflow, klaxontype.ClassPermanent, reviewChannel, map[string]string{"tenant": "acme"}},
			{testWorkflow, klaxontype.ClassPermanent, reviewChannel, map[string]string{"tenant": "globex"}},
			{testWorkflow, klaxontype.ClassPermanent, "ops", map[string]string{"tenant": "acme"}},
			{"classify", klaxontype.ClassPolicyViolation, "security", map[string]string{"tenant": "acme"}},
			{"classify", klaxontype.ClassPermanent, reviewChannel, nil},
		}
		ids := make([]string, len(specs))
		var created []time.Time
		for i, s := range specs {
			if i > 0 {
				time.Sleep(5 * time.Millisecond)
			}
			_, ids[i] = f.deadRun(death{
				Run:        store.RunEnqueueParams{Workflow: s.workflow, Entities: s.entities},
				Failure:    &klaxontype.RunFailure{Class: s.class, Reason: "failed as " + string(s.class), Step: "summarize", StepSeq: 1},
				DeadLetter: &store.DeadLetterParams{ID: newEntryID(), Channel: s.channel},
			})
			created = append(created, f.entry(ids[i]).CreatedAt)
		}
		if _, err := f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: ids[1], Reason: "known flake", Actor: "alice"}); err != nil {
			t.Fatalf("DLQDiscard: %v", err)
		}
		permanent, policy := klaxontype.ClassPermanent, klaxontype.ClassPolicyViolation
		open := []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}
		for _, tc := range []struct {
			name   string
			params store.DLQListParams
			want   []*store.DLQGroup
		}{
			{"no filter", store.DLQListParams{}, []*store.DLQGroup{
				{Class: permanent, Channel: "ops", Count: 1},
				{Class: permanent, Channel: reviewChannel, Count: 3},
				{Class: policy, Channel: "security", Count: 1},
			}},
			{"open", store.DLQListParams{States: open}, []*store.DLQGroup{
				{Class: permanent, Channel: "ops", Count: 1},
				{Class: permanent, Channel: reviewChannel, Count: 2},
				{Class: policy, Channel: "security", Count: 1},
			}},
			{"workflow", store.DLQListParams{Workflow: "classify"}, []*store.DLQGroup{
				{Class: permanent, Channel: reviewChannel, Count: 1},
				{Class: policy, Channel: "security", Count: 1},
			}},
			{"class", store.DLQListParams{Classes: []klaxontype.FailureClass{policy}}, []*store.DLQGroup{
				{Class: policy, Channel: "security", Count: 1},
			}},
			{"channel", store.DLQListParams{Channel: reviewChannel, States: open}, []*store.DLQGroup{
				{Class: permanent, Channel: reviewChannel, Count: 2},
			}},
			{"entity", store.DLQListParams{Entities: map[string]string{"tenant": "acme"}}, []*store.DLQGroup{
				{Class: permanent, Channel: "ops", Count: 1},
				{Class: permanent, Channel: reviewChannel, Count: 1},
				{Class: policy, Channel: "security", Count: 1},
			}},
			{"created after", store.DLQListParams{CreatedAfter: created[3]}, []*store.DLQGroup{
				{Class: permanent, Channel: reviewChannel, Count: 1},
				{Class: policy, Channel: "security", Count: 1},
			}},
			{"created before", store.DLQListParams{CreatedBefore: created[1]}, []*store.DLQGroup{
				{Class: permanent, Channel: reviewChannel, Count: 1},
			}},
			{"nothing matches", store.DLQListParams{Workflow: "translate"}, nil},
			// The cursor and limit of a listing do not narrow the counts.
			{"cursor and limit ignored", store.DLQListParams{BeforeID: ids[0], Limit: 1, Classes: []klaxontype.FailureClass{policy}}, []*store.DLQGroup{
				{Class: policy, Channel: "security", Count: 1},
			}},
		} {
			f.checkGroupsNamed(tc.name, &tc.params, tc.want)
		}
	})
}

// checkGroups compares DLQCountByClassAndChannel with want, in its order.
func (f *fixture) checkGroups(params *store.DLQListParams, want []*store.DLQGroup) {
	f.t.Helper()
	f.checkGroupsNamed("", params, want)
}

func (f *fixture) checkGroupsNamed(name string, params *store.DLQListParams, want []*store.DLQGroup) {
	f.t.Helper()
	got, err := f.store.DLQCountByClassAndChannel(f.ctx, params)
	if err != nil {
		f.t.Fatalf("DLQCountByClassAndChannel %s: %v", name, err)
	}
	if got == nil {
		f.t.Errorf("DLQCountByClassAndChannel %s = nil; want an empty list", name)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		f.t.Errorf("DLQCountByClassAndChannel %s:", name)
		for _, g := range got {
			f.t.Errorf("  got  %+v", *g)
		}
		for _, g := range want {
			f.t.Errorf("  want %+v", *g)
		}
	}
}

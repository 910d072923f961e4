package scenarios_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/klaxonhq/klaxon/internal/scenarios"
	"github.com/klaxonhq/klaxon/klaxontype"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// The actions of the durable-wait scenarios answer waits as people and
// webhooks do: through the Go client on the server's database (the public
// API's signal and approval routes say the same through the same store
// rules).

var (
	peopleMu sync.Mutex
	// people holds one client per database the harness serves.
	people = map[string]*klaxon.Client{}
)

// peopleOf is the client through which the harness signals and decides on
// the runs of env's database.
func peopleOf(t *testing.T, env *environment) *klaxon.Client {
	t.Helper()
	peopleMu.Lock()
	defer peopleMu.Unlock()
	if client := people[env.db]; client != nil {
		return client
	}
	var st store.Store
	var err error
	if strings.HasPrefix(env.db, "postgres://") || strings.HasPrefix(env.db, "postgresql://") {
		st, err = postgres.Open(context.Background(), env.db, nil)
	} else {
		st, err = sqlite.Open(context.Background(), env.db, nil)
	}
	if err != nil {
		t.Fatalf("open the scenarios' database for signals: %v", err)
	}
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	people[env.db] = client
	stores = append(stores, st)
	return client
}

// stores are the stores peopleOf opened, closed when the tests end.
var stores []store.Store

// closePeople closes the stores of the harness's clients.
func closePeople() {
	peopleMu.Lock()
	defer peopleMu.Unlock()
	for _, st := range stores {
		_ = st.Close()
	}
	stores, people = nil, map[string]*klaxon.Client{}
}

// signalEarly sends the action's signal while Step blocks, before the run
// reaches its wait: the run must keep it and its wait take it.
func (r *scenarioRun) signalEarly() (*klaxonhttp.RunDetail, error) {
	r.waitBlocked()
	action := r.scenario.Action
	_, err := peopleOf(r.t, r.env).Signal(r.ctx, r.runID, action.Signal, action.Output, "scenario")
	r.env.effects.Release(r.key, r.blockedStep())
	if err != nil {
		return nil, fmt.Errorf("signal %s before the wait: %w", action.Signal, err)
	}
	return r.await()
}

// approve approves the action's approval once the run waits on it.
func (r *scenarioRun) approve() (*klaxonhttp.RunDetail, error) {
	action := r.scenario.Action
	client := peopleOf(r.t, r.env)
	err := eventually(r.ctx, runTimeout, func() (bool, error) {
		_, err := client.DecideApproval(r.ctx, r.runID, action.Step, klaxon.Decision{Approved: true, Comment: "scenario"}, "scenario")
		return err == nil, err
	})
	if err != nil {
		return nil, fmt.Errorf("approve %s: %w", action.Step, err)
	}
	return r.await()
}

// childrenReleased waits until the run waits on the children of the
// action's fan-out step, then lets their blocked steps go: the run is woken
// by its children's ends, not by its own worker's reading of them.
func (r *scenarioRun) childrenReleased() (*klaxonhttp.RunDetail, error) {
	err := eventually(r.ctx, runTimeout, func() (bool, error) {
		detail, err := r.env.api.run(r.ctx, r.runID)
		return err == nil && (detail.Run.Status == klaxontype.RunStatusWaiting || detail.Run.Status.Terminal()), err
	})
	r.releaseChildren()
	if err != nil {
		return nil, fmt.Errorf("the run did not wait on its children: %w", err)
	}
	return r.await()
}

// releaseChildren releases every step of the children of the action's
// fan-out step.
func (r *scenarioRun) releaseChildren() {
	action := r.scenario.Action
	if action == nil || action.Kind != "release_children" {
		return
	}
	for _, step := range r.scenario.Steps {
		if step.Name != action.Step || step.Child == nil {
			continue
		}
		child := r.env.catalog.Get(step.Child.Workflow)
		for i := 1; i <= step.Child.Count; i++ {
			for _, childStep := range child.Steps {
				r.env.effects.Release(scenarios.ChildKey(r.key, step.Name, i), childStep.Name)
			}
		}
	}
}

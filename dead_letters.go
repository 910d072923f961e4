package klaxon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/klaxonhq/klaxon/internal/engine"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// DeadLetters lists dead-letter entries matching the filter, newest first.
func (c *Client) DeadLetters(ctx context.Context, filter *DeadLetterFilter) ([]*klaxontype.DeadLetter, error) {
	params := filter.storeParams()
	if err := checkFilter(params); err != nil {
		return nil, err
	}
	return c.store.DLQList(ctx, params)
}

// DeadLetter returns one entry with its attempts and deliveries.
func (c *Client) DeadLetter(ctx context.Context, id string) (*klaxontype.DeadLetter, error) {
	return c.store.DLQGet(ctx, id)
}

// ReplayOptions say how to replay a dead run.
type ReplayOptions struct {
	// Mode is resume (default), from-step or restart.
	Mode klaxontype.ReplayMode
	// Step is the first step to run again, for from-step.
	Step string
	// Input replaces the run's input when set.
	Input []byte
	// Actor is who replays, recorded in the event log.
	Actor string
	// Budget, when set, gives the run a new budget: each field given
	// replaces its cap, a field not given keeps the cap the run has now (its
	// own, else its workflow's). A run that died budget_exceeded is given
	// more so; the event log and the audit log record it.
	Budget *klaxontype.Budget
}

// ReplayPlan says, before a replay, what it will do: which steps of the log it
// keeps and which will run again, with their side effects.
type ReplayPlan struct {
	EntryID string                `json:"entry_id"`
	RunID   string                `json:"run_id"`
	Mode    klaxontype.ReplayMode `json:"mode"`
	// KeptSteps are replayed from the log and not run again.
	KeptSteps []string `json:"kept_steps"`
	// RerunSteps are known steps that will run again (the failed step, and for
	// from-step and restart the discarded ones); steps after them that never
	// ran will run too.
	RerunSteps []string `json:"rerun_steps"`
	// NewIdempotencyKeys is true when the steps that run again get new keys
	// (from-step, restart): external APIs will see them as new calls.
	NewIdempotencyKeys bool `json:"new_idempotency_keys"`
}

// PlanReplay says what replaying the entry would do, changing nothing.
func (c *Client) PlanReplay(ctx context.Context, entryID string, options ReplayOptions) (*ReplayPlan, error) {
	options.Mode = defaultMode(options.Mode)
	if !options.Mode.Valid() {
		return nil, fmt.Errorf("%w: replay mode %q is not resume, from-step or restart", klaxontype.ErrInvalid, options.Mode)
	}
	entry, err := c.store.DLQGet(ctx, entryID)
	if err != nil {
		return nil, err
	}
	if entry.State != klaxontype.DeadLetterOpen {
		return nil, fmt.Errorf("dead-letter entry %s was %s: %w", entry.ID, entry.State, klaxontype.ErrEntryNotOpen)
	}
	steps, err := c.store.StepList(ctx, entry.RunID)
	if err != nil {
		return nil, err
	}
	plan := &ReplayPlan{EntryID: entry.ID, RunID: entry.RunID, Mode: options.Mode, KeptSteps: []string{}, RerunSteps: []string{}}
	rerunFrom := len(steps) + 1 // resume keeps the whole log
	switch options.Mode {
	case klaxontype.ReplayRestart:
		rerunFrom, plan.NewIdempotencyKeys = 0, true
	case klaxontype.ReplayFromStep:
		plan.NewIdempotencyKeys = true
		rerunFrom = -1
		for _, step := range steps {
			if step.Name == options.Step {
				rerunFrom = step.Seq
				break
			}
		}
		if rerunFrom < 0 && entry.Step != nil && entry.Step.Name == options.Step {
			rerunFrom = entry.Step.Seq
		}
		if rerunFrom < 0 {
			return nil, fmt.Errorf("%w: step %q is not in the step log of run %s", klaxontype.ErrInvalid, options.Step, entry.RunID)
		}
	}
	undone := 0
	for _, step := range steps {
		if step.Seq < rerunFrom {
			plan.KeptSteps = append(plan.KeptSteps, step.Name)
			if step.Status != klaxontype.StepStatusCompleted {
				undone++
			}
		} else {
			plan.RerunSteps = append(plan.RerunSteps, step.Name)
		}
	}
	if undone > 0 {
		// The replay itself would refuse: say so now, not after a dry run
		// promised otherwise.
		return nil, fmt.Errorf("%w: run %s had %d kept steps compensated; resuming would build on undone work: replay with restart", klaxontype.ErrInvalid, entry.RunID, undone)
	}
	if entry.Step != nil && (len(steps) == 0 || steps[len(steps)-1].Seq < entry.Step.Seq) {
		plan.RerunSteps = append(plan.RerunSteps, entry.Step.Name)
	}
	return plan, nil
}

func defaultMode(mode klaxontype.ReplayMode) klaxontype.ReplayMode {
	if mode == "" {
		return klaxontype.ReplayResume
	}
	return mode
}

// Replay replays a dead run from its dead-letter entry: resume keeps its
// completed steps, from-step discards one step and the later ones, restart
// creates a new linked run. Of concurrent replays of one entry, one wins; the
// others get an error wrapping klaxontype.ErrEntryNotOpen.
func (c *Client) Replay(ctx context.Context, entryID string, options ReplayOptions) (*klaxontype.DeadLetter, error) {
	params := &store.DLQReplayParams{
		EntryID: entryID, Mode: defaultMode(options.Mode), Step: options.Step, Input: options.Input,
		Actor: actorOr(options.Actor), Budget: options.Budget,
	}
	if params.Mode == klaxontype.ReplayRestart {
		params.NewRunID = newID()
	}
	if err := c.checkReplayInput(ctx, entryID, options.Input); err != nil {
		return nil, err
	}
	budget, err := c.replayBudget(ctx, entryID, options.Budget)
	if err != nil {
		return nil, err
	}
	params.Budget = budget
	entry, err := c.store.DLQReplay(ctx, params)
	if err != nil {
		return nil, err
	}
	c.wakeWorker()
	return entry, nil
}

// checkReplayInput checks edited input as an enqueue's would be: against the
// workflow's input type when this client has the workflow registered, else
// against the input schema its workers recorded in the store (the CLI and the
// server have no workflow code), so that a replay cannot create a run that
// dies decoding its input.
func (c *Client) checkReplayInput(ctx context.Context, entryID string, input []byte) error {
	if input == nil {
		return nil
	}
	entry, err := c.store.DLQGet(ctx, entryID)
	if err != nil {
		return err
	}
	c.mu.Lock()
	local := c.workflows[entry.Workflow]
	c.mu.Unlock()
	if local != nil {
		return local.checkInput(input)
	}
	known, err := c.store.WorkflowList(ctx)
	if err != nil {
		return fmt.Errorf("klaxon: list workflows: %w", err)
	}
	for _, info := range known {
		if info.Name == entry.Workflow {
			return checkRecordedInput(info, input)
		}
	}
	// A workflow no worker ever registered has no schema: the input must at
	// least be JSON.
	return checkRecordedInput(&klaxontype.WorkflowInfo{Name: entry.Workflow}, input)
}

// BulkReplayResult counts what a replay of many entries did.
type BulkReplayResult struct {
	// Matched is how many open entries matched the filter.
	Matched int `json:"matched"`
	// Replayed is how many were replayed (zero in a dry run).
	Replayed int `json:"replayed"`
	// Skipped were replayed, resolved or discarded by someone else meanwhile.
	Skipped int `json:"skipped"`
	// Failed maps entry IDs to why their replay was refused.
	Failed map[string]string `json:"failed,omitempty"`
	// EntryIDs are the matched entries (in a dry run, what would be replayed).
	EntryIDs []string `json:"entry_ids"`
}

// bulkWorkers is how many replays are in flight at once: enough for the store
// to commit many in one transaction.
const bulkWorkers = 32

// ReplayMatching replays every open entry matching the filter (the filter's
// states are ignored: only open entries can be replayed). With dryRun it only
// counts and lists them.
func (c *Client) ReplayMatching(ctx context.Context, filter *DeadLetterFilter, options ReplayOptions, dryRun bool) (*BulkReplayResult, error) {
	options.Mode = defaultMode(options.Mode)
	if !options.Mode.Valid() {
		return nil, fmt.Errorf("%w: replay mode %q is not resume, from-step or restart", klaxontype.ErrInvalid, options.Mode)
	}
	outcome, err := c.actOnMatching(ctx, filter, dryRun, func(id string) error {
		_, err := c.Replay(ctx, id, options)
		return err
	})
	if outcome == nil {
		return nil, err
	}
	return &BulkReplayResult{Matched: outcome.matched, Replayed: outcome.done, Skipped: outcome.skipped,
		Failed: outcome.failed, EntryIDs: outcome.entryIDs}, err
}

// BulkDiscardResult counts what a discard of many entries did.
type BulkDiscardResult struct {
	// Matched is how many open entries matched the filter.
	Matched int `json:"matched"`
	// Discarded is how many were discarded (zero in a dry run).
	Discarded int `json:"discarded"`
	// Skipped were replayed, resolved or discarded by someone else meanwhile.
	Skipped int `json:"skipped"`
	// Failed maps entry IDs to why their discard was refused.
	Failed map[string]string `json:"failed,omitempty"`
	// EntryIDs are the matched entries (in a dry run, what would be
	// discarded).
	EntryIDs []string `json:"entry_ids"`
}

// DiscardMatching closes every open entry matching the filter without action,
// each with the reason, recorded under actor; the runs stay dead. With dryRun
// it only counts and lists them.
func (c *Client) DiscardMatching(ctx context.Context, filter *DeadLetterFilter, reason, actor string, dryRun bool) (*BulkDiscardResult, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, fmt.Errorf("%w: a discard needs a reason, for the audit trail", klaxontype.ErrInvalid)
	}
	outcome, err := c.actOnMatching(ctx, filter, dryRun, func(id string) error {
		_, err := c.Discard(ctx, id, reason, actor)
		return err
	})
	if outcome == nil {
		return nil, err
	}
	return &BulkDiscardResult{Matched: outcome.matched, Discarded: outcome.done, Skipped: outcome.skipped,
		Failed: outcome.failed, EntryIDs: outcome.entryIDs}, err
}

// bulkOutcome is what an action on every matching entry did.
type bulkOutcome struct {
	matched, done, skipped int
	failed                 map[string]string
	entryIDs               []string
}

// actOnMatching lists every open entry matching the filter, then, unless
// dryRun, applies act to each, bulkWorkers at a time. With the filter's
// EntryIDs (a dry run's snapshot) it acts on those entries only, and skips
// those no longer open and matching. An entry closed by someone else
// meanwhile is skipped; other refusals are kept by entry. It returns nil and
// the error when the entries cannot be listed.
func (c *Client) actOnMatching(ctx context.Context, filter *DeadLetterFilter, dryRun bool, act func(id string) error) (*bulkOutcome, error) {
	page := *filter.storeParams()
	page.States = []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}
	page.BeforeID, page.Limit = "", 1000
	if err := checkFilter(&page); err != nil {
		return nil, err
	}
	outcome := &bulkOutcome{entryIDs: []string{}}
	for {
		entries, err := c.store.DLQList(ctx, &page)
		if err != nil {
			return nil, err
		}
		for _, entry := range entries {
			outcome.entryIDs = append(outcome.entryIDs, entry.ID)
		}
		if len(entries) < page.Limit {
			break
		}
		page.BeforeID = entries[len(entries)-1].ID
	}
	var changed map[string]bool
	if filter != nil && filter.EntryIDs != nil {
		outcome.entryIDs, changed = snapshotOf(filter.EntryIDs, outcome.entryIDs)
	}
	outcome.matched = len(outcome.entryIDs)
	if dryRun || outcome.matched == 0 {
		return outcome, nil
	}
	var (
		mu   sync.Mutex
		next int
		wg   sync.WaitGroup
	)
	for range min(bulkWorkers, outcome.matched) {
		wg.Go(func() {
			for {
				mu.Lock()
				if next == len(outcome.entryIDs) || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				id := outcome.entryIDs[next]
				next++
				mu.Unlock()
				err := klaxontype.ErrEntryNotOpen // closed or no longer matching since the snapshot
				if !changed[id] {
					err = act(id)
				}
				mu.Lock()
				switch {
				case err == nil:
					outcome.done++
				case errors.Is(err, klaxontype.ErrEntryNotOpen):
					outcome.skipped++
				default:
					if outcome.failed == nil {
						outcome.failed = make(map[string]string)
					}
					outcome.failed[id] = err.Error()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return outcome, ctx.Err()
}

// snapshotOf is the entries of a dry run's snapshot, in its order and each
// once, with those no longer among the open entries matching the filter.
func snapshotOf(snapshot, matching []string) (entryIDs []string, changed map[string]bool) {
	still := make(map[string]bool, len(matching))
	for _, id := range matching {
		still[id] = true
	}
	entryIDs = make([]string, 0, len(snapshot))
	seen := make(map[string]bool, len(snapshot))
	for _, id := range snapshot {
		if seen[id] {
			continue
		}
		seen[id] = true
		entryIDs = append(entryIDs, id)
		if !still[id] {
			if changed == nil {
				changed = make(map[string]bool)
			}
			changed[id] = true
		}
	}
	return entryIDs, changed
}

// Resolve completes an open entry's failed step with an output a person
// supplies, checked against the step's output type; the run continues from
// there without running its completed steps again.
func (c *Client) Resolve(ctx context.Context, entryID, step string, output []byte, actor string) (*klaxontype.DeadLetter, error) {
	entry, err := c.store.DLQGet(ctx, entryID)
	if err != nil {
		return nil, err
	}
	if entry.Step == nil {
		return nil, fmt.Errorf("%w: entry %s failed outside any step (%s); replay it instead", klaxontype.ErrInvalid, entry.ID, entry.Class)
	}
	if entry.Step.Name != step {
		return nil, fmt.Errorf("%w: entry %s failed in step %q, not %q", klaxontype.ErrInvalid, entry.ID, entry.Step.Name, step)
	}
	if len(entry.OutputSchema) > 0 {
		if err := validateOutput(entry.OutputSchema, output); err != nil {
			return nil, fmt.Errorf("%w: the output does not fit step %q's output type: %v", klaxontype.ErrInvalid, step, err)
		}
	}
	run, err := c.store.RunGet(ctx, entry.RunID)
	if err != nil {
		return nil, err
	}
	resolved, err := c.store.DLQResolve(ctx, &store.DLQResolveParams{
		EntryID: entryID, Step: step, Output: output, Actor: actorOr(actor),
		IdempotencyKey: engine.IdempotencyKey(run.ID, entry.Step.Seq, step, run.StepGeneration),
	})
	if err != nil {
		return nil, err
	}
	c.wakeWorker()
	return resolved, nil
}

// Discard closes an open entry without action; the run stays dead.
func (c *Client) Discard(ctx context.Context, entryID, reason, actor string) (*klaxontype.DeadLetter, error) {
	return c.store.DLQDiscard(ctx, &store.DLQDiscardParams{EntryID: entryID, Reason: reason, Actor: actorOr(actor)})
}

// PurgeDeadLetters deletes the entries matching the filter, recording who
// purged which. It is the only way entries are ever deleted.
func (c *Client) PurgeDeadLetters(ctx context.Context, filter *DeadLetterFilter, actor string) (int, error) {
	params := filter.storeParams()
	if err := checkFilter(params); err != nil {
		return 0, err
	}
	return c.store.DLQPurge(ctx, &store.DLQPurgeParams{Filter: *params, Actor: actorOr(actor)})
}

func actorOr(actor string) string {
	if actor == "" {
		return "client"
	}
	return actor
}

func (c *Client) wakeWorker() {
	c.mu.Lock()
	worker, remote := c.worker, c.remote
	c.mu.Unlock()
	if worker != nil {
		worker.Wake()
	}
	if remote != nil {
		remote.Wake()
	}
}

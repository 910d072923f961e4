package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/store"
)

// concurrencyKey is the key a run of a workflow with a concurrency key is
// limited under, as stored; empty when the workflow has none, or the run's
// key is empty (the run is then not limited).
func (d *Definition) concurrencyKey(input []byte) string {
	if d == nil || d.ConcurrencyKey == nil {
		return ""
	}
	key, err := d.ConcurrencyKey(input)
	if err != nil {
		// An input the key cannot be read from fails the run on its own
		// when the workflow decodes it.
		return ""
	}
	return klaxontype.ConcurrencyKeyOf(key)
}

// admitClaimed judges the runs a holder just claimed against their
// workflows' concurrency keys, and returns those it may execute: runs of
// workflows without a key, runs holding a slot already (after a wait, a
// backoff or a lost worker), and runs that took one now. The rest wait in
// pending for a slot. When the judgement fails, the runs it was for are
// given back, to be claimed again.
func admitClaimed(ctx context.Context, st store.Engine, holder string, claimed []*store.ClaimedRun, definition func(name string) *Definition, logger *slog.Logger) []*store.ClaimedRun {
	var judged []store.RunAdmission
	keys := map[string]string{} // the key of each judged run, by ID
	for _, c := range claimed {
		run := c.Run
		if run.ConcurrencySlot == klaxontype.SlotHeld {
			continue
		}
		d := definition(run.Workflow)
		key := d.concurrencyKey(run.Input)
		if key == "" {
			continue
		}
		judged = append(judged, store.RunAdmission{
			Lease: store.Lease{RunID: run.ID, Epoch: run.Epoch}, Key: key, Limit: d.ConcurrencyLimit,
		})
		keys[run.ID] = key
	}
	if len(judged) == 0 {
		return claimed
	}
	admitted, err := st.RunsAdmit(ctx, &store.RunsAdmitParams{Holder: holder, Runs: judged})
	if err != nil {
		logger.Error("judging claimed runs against their concurrency keys failed; giving them back", "worker", holder, "runs", len(judged), "error", err)
		for _, run := range judged {
			if err := st.RunRelease(context.WithoutCancel(ctx), &store.RunReleaseParams{Lease: run.Lease, Holder: holder}); err != nil {
				logger.Error("giving a claimed run back failed; its lease will expire", "worker", holder, "run", run.Lease.RunID, "error", err)
			}
		}
		admitted = nil
	}
	kept := claimed[:0:0]
	for _, c := range claimed {
		key, wasJudged := keys[c.Run.ID]
		switch {
		case !wasJudged:
			kept = append(kept, c)
		case slices.Contains(admitted, c.Run.ID):
			c.Run.ConcurrencyKey, c.Run.ConcurrencySlot = key, klaxontype.SlotHeld
			kept = append(kept, c)
		}
	}
	return kept
}

// admitNext gives the slot a run freed by ending to the oldest run of its
// key waiting for one, and reports whether one took it.
func admitNext(ctx context.Context, st store.Engine, run *klaxontype.Run, logger *slog.Logger) bool {
	if run.ConcurrencySlot != klaxontype.SlotHeld || run.ConcurrencyKey == "" {
		return false
	}
	admitted, err := st.ConcurrencyAdmit(context.WithoutCancel(ctx), &store.ConcurrencyAdmitParams{Keys: []string{run.ConcurrencyKey}})
	if err != nil {
		logger.Error("admitting the next run of a concurrency key failed; a worker's idle pass will", "run", run.ID, "key", run.ConcurrencyKey, "error", err)
	}
	return admitted > 0
}

// KeyAtPath returns the concurrency key function of a JSON path
// ($.customer.id): the string at the path, or the JSON text of a number or
// a boolean there; empty (no limit) when the input has nothing there. The
// path names object members only.
func KeyAtPath(text string) (func(input []byte) (string, error), error) {
	path, err := redact.ParsePath(text)
	if err != nil {
		return nil, fmt.Errorf("%w: concurrency key path: %v", klaxontype.ErrInvalid, err)
	}
	for _, member := range path {
		if member == "*" {
			return nil, fmt.Errorf("%w: concurrency key path %q: a key is one value; give a path without [*] or .*", klaxontype.ErrInvalid, text)
		}
	}
	return func(input []byte) (string, error) {
		var value any
		if err := json.Unmarshal(input, &value); err != nil {
			return "", err
		}
		for _, member := range path {
			object, ok := value.(map[string]any)
			if !ok {
				return "", nil
			}
			value = object[member]
		}
		switch v := value.(type) {
		case string:
			return v, nil
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64), nil
		case bool:
			return strconv.FormatBool(v), nil
		default:
			return "", nil
		}
	}, nil
}

// admissionInterval is how often at most an idle worker admits the runs
// waiting for slots that ended runs freed outside any worker's report (a
// cancel through the API is one, and admits at once; a failed admission
// after a run ended is another).
const admissionInterval = time.Second

// admissionPass runs the idle admission at most every admissionInterval.
type admissionPass struct {
	mu   sync.Mutex
	last time.Time
}

// due reports whether the pass may run now, and if so records that it did.
func (p *admissionPass) due(now time.Time) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.last) < admissionInterval {
		return false
	}
	p.last = now
	return true
}

// admitWaiting is an idle worker's admission pass over every key.
func (w *Worker) admitWaiting(ctx context.Context) {
	if !w.admission.due(time.Now()) {
		return
	}
	admitted, err := w.config.Store.ConcurrencyAdmit(ctx, &store.ConcurrencyAdmitParams{})
	if err != nil {
		if ctx.Err() == nil {
			w.config.Logger.Error("admitting runs waiting for concurrency slots failed", "worker", w.config.ID, "error", err)
		}
		return
	}
	if admitted > 0 {
		w.Wake()
	}
}

// definition is the worker's workflow of a name; nil when it has none.
func (w *Worker) definition(name string) *Definition { return w.config.Workflows[name] }

// cached is the registered workflow of a name, for judging claimed runs;
// nil when it cannot be read, which a claim, having read every workflow
// it names a moment before, does not meet.
func (c *definitionCache) cached(name string) *Definition {
	definition, err := c.get(context.Background(), name)
	if err != nil {
		return nil
	}
	return definition.Definition
}

// keyed reports whether a workflow of a claim has a concurrency key.
func (r *Remote) keyed(workflows []string) bool {
	for _, name := range workflows {
		if d := r.definitions.cached(name); d != nil && d.ConcurrencyKey != nil {
			return true
		}
	}
	return false
}

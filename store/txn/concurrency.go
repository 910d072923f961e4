package txn

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// concurrencyActor is the actor of a run.admitted event: no person and no
// worker decided it, the key's freed slot did.
const concurrencyActor = "concurrency"

// RunsAdmit judges claimed runs against their keys' limits, key by key in
// order (so that two judgements never wait for each other's keys), each key
// locked while it is judged. A run takes a slot while one is free and no
// older run of its key waits; the others wait. Then the key's free slots,
// if any are left, go to its oldest waiting runs.
func (r Rules) RunsAdmit(ctx context.Context, params *store.RunsAdmitParams) ([]string, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	runs := slices.Clone(params.Runs)
	slices.SortStableFunc(runs, func(a, b store.RunAdmission) int {
		return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.Lease.RunID, b.Lease.RunID))
	})
	var admitted []string
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		admitted = admitted[:0]
		t := r.now()
		for start := 0; start < len(runs); {
			end := start + 1
			for end < len(runs) && runs[end].Key == runs[start].Key {
				end++
			}
			taken, err := judgeKey(ctx, tx, params.Holder, runs[start:end], t)
			if err != nil {
				return err
			}
			admitted = append(admitted, taken...)
			start = end
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return admitted, nil
}

// judgeKey judges claimed runs of one key, under its lock.
func judgeKey(ctx context.Context, tx Tx, holder string, runs []store.RunAdmission, t time.Time) ([]string, error) {
	key := runs[0].Key
	if err := tx.ConcurrencyLock(ctx, key); err != nil {
		return nil, err
	}
	held, waitingLimit, err := tx.ConcurrencyCount(ctx, key)
	if err != nil {
		return nil, err
	}
	waiting := waitingLimit > 0
	var admitted []string
	for _, run := range runs {
		slot := klaxontype.SlotWaiting
		if !waiting && held < run.Limit {
			slot = klaxontype.SlotHeld
		}
		_, isHeld, err := tx.RunJudge(ctx, &RunJudgeParams{
			Lease: run.Lease, Holder: holder, Key: key, Limit: run.Limit, Slot: slot, At: t,
		})
		if err != nil {
			return nil, err
		}
		if !isHeld {
			continue
		}
		if slot == klaxontype.SlotHeld {
			held++
			admitted = append(admitted, run.Lease.RunID)
			continue
		}
		waiting = true
		if err := tx.EventInsert(ctx, &klaxontype.Event{
			RunID: run.Lease.RunID, Type: klaxontype.EventRunParked, Actor: holder, At: t,
			Message: parkedMessage(key, held, run.Limit),
		}, nil); err != nil {
			return nil, err
		}
	}
	if waiting {
		// The runs of one judgement are one worker's, judged with one limit.
		if _, err := admitWaiting(ctx, tx, key, runs[len(runs)-1].Limit, held, t); err != nil {
			return nil, err
		}
	}
	return admitted, nil
}

// parkedMessage says why a run waits: its key's slots, all held or promised
// to older runs.
func parkedMessage(key string, held, limit int) string {
	if held < limit {
		return fmt.Sprintf("concurrency key %q: older runs of the key wait for its %d free slots of %d; waits in pending for one", key, limit-held, limit)
	}
	return fmt.Sprintf("concurrency key %q: all %d slots held; waits in pending for one", key, limit)
}

// ConcurrencyAdmit gives the free slots of each key, locked in order, to
// its oldest waiting runs.
func (r Rules) ConcurrencyAdmit(ctx context.Context, params *store.ConcurrencyAdmitParams) (int, error) {
	var total int
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		total = 0
		keys := slices.Clone(params.Keys)
		if len(keys) == 0 {
			var err error
			if keys, err = tx.ConcurrencyWaitingKeys(ctx); err != nil {
				return err
			}
		}
		slices.Sort(keys)
		t := r.now()
		for _, key := range slices.Compact(keys) {
			n, err := admitKey(ctx, tx, key, t)
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	return total, err
}

// admitKey locks a key and gives its free slots to its oldest waiting runs,
// under the limit the oldest was judged with.
func admitKey(ctx context.Context, tx Tx, key string, t time.Time) (int, error) {
	if err := tx.ConcurrencyLock(ctx, key); err != nil {
		return 0, err
	}
	held, waitingLimit, err := tx.ConcurrencyCount(ctx, key)
	if err != nil || waitingLimit == 0 {
		return 0, err
	}
	return admitWaiting(ctx, tx, key, waitingLimit, held, t)
}

// admitWaiting gives a locked key's free slots to its oldest waiting runs,
// records a run.admitted event each, and tells the workers of their
// workflows.
func admitWaiting(ctx context.Context, tx Tx, key string, limit, held int, t time.Time) (int, error) {
	if held >= limit {
		return 0, nil
	}
	admitted, err := tx.RunsAdmitWaiting(ctx, key, limit-held, t)
	if err != nil {
		return 0, err
	}
	announced := map[string]bool{}
	for _, run := range admitted {
		if err := tx.EventInsert(ctx, &klaxontype.Event{
			RunID: run.ID, Type: klaxontype.EventRunAdmitted, Actor: concurrencyActor, At: t,
			Message: fmt.Sprintf("concurrency key %q: a slot of %d freed; claimable at once", key, limit),
		}, nil); err != nil {
			return 0, err
		}
		if !announced[run.Workflow] {
			announced[run.Workflow] = true
			if err := tx.RunsAvailable(ctx, run.Workflow); err != nil {
				return 0, err
			}
		}
	}
	return len(admitted), nil
}

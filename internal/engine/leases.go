package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// leaseSet is the runs a worker holds, with a way to stop each one's execution
// when its lease is lost.
type leaseSet struct {
	mu     sync.Mutex
	leases map[string]*heldLease
}

type heldLease struct {
	lease  store.Lease
	cancel context.CancelCauseFunc
}

func newLeaseSet() *leaseSet { return &leaseSet{leases: make(map[string]*heldLease)} }

// add records a new lease. When this worker still runs an older attempt of
// the same run (its lease expired during a stall and the worker reclaimed
// the run itself), that attempt is stopped: its writes would be refused
// anyway, and it must not run steps beside the new one.
func (s *leaseSet) add(lease store.Lease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.leases[lease.RunID]; old != nil && old.cancel != nil {
		old.cancel(klaxontype.ErrLeaseLost)
	}
	s.leases[lease.RunID] = &heldLease{lease: lease}
}

// attach sets the function that cancels the execution of the attempt holding
// lease.
func (s *leaseSet) attach(lease store.Lease, cancel context.CancelCauseFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if held := s.leases[lease.RunID]; held != nil && held.lease.Epoch == lease.Epoch {
		held.cancel = cancel
	} else {
		cancel(klaxontype.ErrLeaseLost) // already superseded
	}
}

// remove forgets a lease when its attempt ends, unless a newer attempt of the
// same run has replaced it.
func (s *leaseSet) remove(lease store.Lease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if held := s.leases[lease.RunID]; held != nil && held.lease.Epoch == lease.Epoch {
		delete(s.leases, lease.RunID)
	}
}

func (s *leaseSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.leases)
}

func (s *leaseSet) snapshot() []store.Lease {
	s.mu.Lock()
	defer s.mu.Unlock()
	leases := make([]store.Lease, 0, len(s.leases))
	for _, held := range s.leases {
		leases = append(leases, held.lease)
	}
	return leases
}

// lose stops the execution of the attempt that held lease, unless a newer
// attempt of the run holds it now (the heartbeat that found the old epoch
// stale may return after this worker claimed the run again).
func (s *leaseSet) lose(lease store.Lease) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if held := s.leases[lease.RunID]; held != nil && held.lease.Epoch == lease.Epoch && held.cancel != nil {
		held.cancel(klaxontype.ErrLeaseLost)
		return true
	}
	return false
}

// loseRun stops the execution of whichever attempt holds the run, for a run
// whose lease the store took away whatever its epoch (a cancelled run).
func (s *leaseSet) loseRun(runID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if held := s.leases[runID]; held != nil && held.cancel != nil {
		held.cancel(klaxontype.ErrLeaseLost)
		return true
	}
	return false
}

// StopCancelled stops this worker's execution of a run that was just
// cancelled in the store, at once rather than at its next heartbeat or
// checkpoint. It reports whether the worker was executing the run.
func (w *Worker) StopCancelled(runID string) bool {
	if !w.leases.loseRun(runID) {
		return false
	}
	w.config.Logger.Info("run cancelled; stopping its execution", "worker", w.config.ID, "run", runID)
	return true
}

// heartbeat renews every held lease each interval until ctx ends, and then
// tells the workers registry the worker is alive. A lease the store no
// longer grants is lost: its execution is cancelled, and any write it still
// attempts is refused by the store's epoch check.
func (w *Worker) heartbeat(ctx context.Context) {
	ticker := time.NewTicker(w.config.HeartbeatInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if w.config.heartbeatsDisabled {
			continue
		}
		w.renewLeases(ctx)
		// One small write a round, after the leases, which matter more. The
		// registry is a record for people: a failure is only logged.
		if err := w.config.Store.WorkerSeen(ctx, &store.WorkerSeenParams{ID: w.config.ID}); err != nil && ctx.Err() == nil && !errors.Is(err, klaxontype.ErrClosed) {
			w.config.Logger.Warn("recording the worker's heartbeat in the registry failed", "worker", w.config.ID, "error", err)
		}
	}
}

// renewLeases renews every held lease once, and stops the execution of each
// run whose lease was lost.
func (w *Worker) renewLeases(ctx context.Context) {
	leases := w.leases.snapshot()
	if len(leases) == 0 {
		return
	}
	lost, err := w.config.Store.LeasesExtend(ctx, &store.LeasesExtendParams{
		Holder: w.config.ID, Leases: leases, Duration: w.config.LeaseDuration,
	})
	if err != nil {
		w.config.Logger.Error("renewing leases failed", "worker", w.config.ID, "leases", len(leases), "error", err)
		return
	}
	epochs := make(map[string]int64, len(leases))
	for _, lease := range leases {
		epochs[lease.RunID] = lease.Epoch
	}
	for _, runID := range lost {
		// A run that ended while the renewal was on its way is not lost.
		if w.leases.lose(store.Lease{RunID: runID, Epoch: epochs[runID]}) {
			w.config.Logger.Warn("lease lost; stopping the run's execution", "worker", w.config.ID, "run", runID)
		}
	}
}

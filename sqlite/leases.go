package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/txn"
	"zombiezen.com/go/sqlite"
)

// expiredLease is a run whose holder stopped heartbeating.
type expiredLease struct {
	runID     string
	holder    string
	expiredAt time.Time
	attempt   int
}

// RunsClaim takes runs whose lease expired first, then available runs.
func (s *Store) RunsClaim(ctx context.Context, params *store.RunsClaimParams) ([]*store.ClaimedRun, error) {
	if params.Holder == "" || params.Limit <= 0 || params.LeaseDuration <= 0 {
		return nil, errors.New("sqlite: a claim needs a holder, a positive limit and a lease duration")
	}
	workflows, err := json.Marshal(params.Workflows)
	if err != nil {
		return nil, err
	}
	var claimed []*store.ClaimedRun
	err = s.writer.write(func(conn *sqlite.Conn) error {
		claimed = claimed[:0]
		t := now()
		expires := t.Add(params.LeaseDuration)
		reclaimed, err := reclaimExpired(conn, s.keys, params, string(workflows), t, expires)
		if err != nil {
			return err
		}
		claimed = append(claimed, reclaimed...)
		if remaining := params.Limit - len(claimed); remaining > 0 && len(params.Workflows) > 0 {
			take := func(stmt *sqlite.Stmt) error {
				run, err := scanRun(stmt, s.keys)
				if err != nil {
					return err
				}
				claimed = append(claimed, &store.ClaimedRun{Run: run})
				return nil
			}
			if len(params.Workflows) > maxClaimWorkflows {
				err = execute(conn, runsClaimAvailableSQL, take, params.Holder, expires, t, string(workflows), remaining)
			} else {
				// A workflow whose breaker is open is left out of the
				// statement, so that its backlog is not walked.
				args := make([]any, 0, 4+len(params.Workflows))
				args = append(args, params.Holder, expires, t, remaining)
				err = execute(conn, workflowsClaimableSQL, func(stmt *sqlite.Stmt) error {
					args = append(args, stmt.ColumnText(0))
					return nil
				}, string(workflows), t)
				if err == nil && len(args) > 4 {
					err = execute(conn, claimAvailableSQL(len(args)-4), take, args...)
				}
			}
			if err != nil {
				return err
			}
		}
		for _, c := range claimed {
			if !c.Reclaimed {
				err := insertEvent(conn, &klaxontype.Event{
					RunID: c.Run.ID, Type: klaxontype.EventRunClaimed, Actor: params.Holder, At: t,
					Message: fmt.Sprintf("attempt %d, epoch %d", c.Run.Attempt, c.Run.Epoch),
				})
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil || len(claimed) == 0 {
		return nil, err
	}
	// Only the holder writes a held run's steps, so reading the logs after the
	// claim committed, off the writer, sees exactly what the claim would have.
	// The claim is committed: a caller that stops waiting now would strand the
	// runs until their leases expire, so the read ignores cancellation.
	if err := s.attachStepLogs(context.WithoutCancel(ctx), claimed); err != nil {
		return nil, err
	}
	return claimed, nil
}

// attachStepLogs reads the step logs of claimed runs in one query.
func (s *Store) attachStepLogs(ctx context.Context, claimed []*store.ClaimedRun) error {
	byID := make(map[string]*store.ClaimedRun, len(claimed))
	ids := make([]string, 0, len(claimed))
	for _, c := range claimed {
		byID[c.Run.ID] = c
		ids = append(ids, c.Run.ID)
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	return s.read(ctx, func(conn *sqlite.Conn) error {
		return execute(conn, stepsOfRunsSQL, func(stmt *sqlite.Stmt) error {
			step, err := scanStep(stmt, s.keys)
			if err != nil {
				return err
			}
			c := byID[step.RunID]
			c.Steps = append(c.Steps, step)
			return nil
		}, string(idsJSON))
	})
}

// reclaimExpired takes over runs whose lease expired. A run whose holder
// vanished gets the lost attempt in its history and a lease.reclaimed event; a
// compensating run released on shutdown (no holder) is simply claimed.
func reclaimExpired(conn *sqlite.Conn, keys *store.Keyring, params *store.RunsClaimParams, workflows string, t, expires time.Time) ([]*store.ClaimedRun, error) {
	var expired []expiredLease
	err := execute(conn, runsSelectExpiredSQL, func(stmt *sqlite.Stmt) error {
		expired = append(expired, expiredLease{
			runID:     stmt.GetText("id"),
			holder:    stmt.GetText("lease_holder"),
			expiredAt: columnTime(stmt, "lease_expires_at"),
			attempt:   int(stmt.GetInt64("attempt")),
		})
		return nil
	}, t, workflows, params.Limit)
	if err != nil || len(expired) == 0 {
		return nil, err
	}
	claimed := make([]*store.ClaimedRun, 0, len(expired))
	for _, lease := range expired {
		var run *klaxontype.Run
		err := execute(conn, runReclaimSQL, func(stmt *sqlite.Stmt) (err error) {
			run, err = scanRun(stmt, keys)
			return err
		}, lease.runID, params.Holder, expires, t)
		if err != nil {
			return nil, err
		}
		if lease.holder == "" {
			claimed = append(claimed, &store.ClaimedRun{Run: run})
			continue
		}
		message := fmt.Sprintf("lease of %s expired at %s without a heartbeat; the worker died or hung",
			lease.holder, lease.expiredAt.Format(time.RFC3339Nano))
		err = insertAttempt(conn, &klaxontype.Attempt{
			RunID: lease.runID, Attempt: lease.attempt, At: t, Worker: lease.holder,
			Class: klaxontype.ClassTransient, Message: message, ClassifiedBy: "lease",
		})
		if err != nil {
			return nil, err
		}
		err = insertEvent(conn, &klaxontype.Event{
			RunID: lease.runID, Type: klaxontype.EventLeaseReclaimed, Actor: params.Holder, At: t,
			Message: fmt.Sprintf("%s; now attempt %d, epoch %d", message, run.Attempt, run.Epoch),
		})
		if err != nil {
			return nil, err
		}
		claimed = append(claimed, &store.ClaimedRun{Run: run, Reclaimed: true})
	}
	return claimed, nil
}

// LeasesExtend renews a holder's leases and reports the ones it lost.
func (s *Store) LeasesExtend(ctx context.Context, params *store.LeasesExtendParams) ([]string, error) {
	if len(params.Leases) == 0 {
		return nil, nil
	}
	var lost []string
	err := s.writer.write(func(conn *sqlite.Conn) error {
		lost = lost[:0]
		t := now()
		expires := t.Add(params.Duration)
		for _, lease := range params.Leases {
			if err := execute(conn, runLeaseExtendSQL, nil, lease.RunID, lease.Epoch, params.Holder, expires, t); err != nil {
				return err
			}
			if conn.Changes() == 0 {
				lost = append(lost, lease.RunID)
			}
		}
		return nil
	})
	return lost, err
}

// RunRelease gives a held run back without counting a failed attempt.
func (s *Store) RunRelease(ctx context.Context, params *store.RunReleaseParams) error {
	return s.writer.write(func(conn *sqlite.Conn) error {
		t := now()
		if err := execute(conn, runReleaseSQL, nil, params.RunID, params.Epoch, params.Holder, t); err != nil {
			return err
		}
		if conn.Changes() == 0 {
			return suppress(conn, params.Lease, params.Holder, t, "release", "", 0, klaxontype.ErrLeaseLost)
		}
		return insertEvent(conn, &klaxontype.Event{
			RunID: params.RunID, Type: klaxontype.EventLeaseReleased, Actor: params.Holder, At: t,
			Message: "worker stopping; the run is available to other workers",
		})
	})
}

// suppress records a write refused because its holder no longer holds the run,
// and returns the rejection for the writer.
func suppress(conn *sqlite.Conn, lease store.Lease, holder string, at time.Time, what string, step string, seq int, cause error) error {
	err := insertEvent(conn, &klaxontype.Event{
		RunID: lease.RunID, Type: klaxontype.EventDuplicateSuppressed, Actor: holder, At: at,
		Step: step, StepSeq: seq,
		Message: txn.SuppressedMessage(what, lease.Epoch, cause),
	})
	if err != nil {
		return err
	}
	return reject(fmt.Errorf("%s of run %s: %w", what, lease.RunID, cause))
}

package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// WaitGet reads a run's wait at a sequence number; nil when none.
func (s *Store) WaitGet(ctx context.Context, runID string, seq int) (*klaxontype.Wait, error) {
	var wait *klaxontype.Wait
	err := s.read(ctx, func(ctx context.Context, q querier) (err error) {
		wait, err = collectWait(q.Query(ctx, waitGetSQL, runID, seq))
		return err
	})
	return wait, err
}

// WaitList lists waits, oldest first.
func (s *Store) WaitList(ctx context.Context, params *store.WaitListParams) ([]*klaxontype.Wait, error) {
	limit := params.Limit
	if limit <= 0 {
		limit = 100
	}
	var waits []*klaxontype.Wait
	err := s.read(ctx, func(ctx context.Context, q querier) (err error) {
		waits, err = collectWaits(q.Query(ctx, waitListSQL, orNull(params.RunID), orNull(string(params.Kind)), params.Open, limit))
		return err
	})
	if waits == nil {
		waits = []*klaxontype.Wait{}
	}
	return waits, err
}

// SignalList lists the signals sent to a run, oldest first.
func (s *Store) SignalList(ctx context.Context, runID string) ([]*klaxontype.Signal, error) {
	var signals []*klaxontype.Signal
	err := s.read(ctx, func(ctx context.Context, q querier) (err error) {
		signals, err = opener{s.keys}.collectSignals(q.Query(ctx, signalListSQL, runID))
		return err
	})
	if signals == nil {
		signals = []*klaxontype.Signal{}
	}
	return signals, err
}

type waitRow struct {
	RunID     string     `db:"run_id"`
	Seq       int        `db:"seq"`
	Name      string     `db:"name"`
	StepKey   string     `db:"step_key"`
	Kind      string     `db:"kind"`
	State     string     `db:"state"`
	StartedAt time.Time  `db:"started_at"`
	Deadline  time.Time  `db:"deadline"`
	Schema    []byte     `db:"schema"`
	Request   *string    `db:"request"`
	EndedAt   *time.Time `db:"ended_at"`
	EndedBy   *string    `db:"ended_by"`
	Workflow  string     `db:"workflow"`
	Entities  []byte     `db:"entities"`
	ChildRun  *string    `db:"child_run_id"`
}

func collectWaits(rows pgx.Rows, err error) ([]*klaxontype.Wait, error) {
	if err != nil {
		return nil, err
	}
	collected, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[waitRow])
	if err != nil {
		return nil, err
	}
	waits := make([]*klaxontype.Wait, len(collected))
	for i, r := range collected {
		wait := &klaxontype.Wait{
			RunID: r.RunID, Workflow: r.Workflow, Seq: r.Seq, Name: r.Name, StepKey: r.StepKey,
			Kind: klaxontype.WaitKind(r.Kind), State: klaxontype.WaitState(r.State),
			StartedAt: r.StartedAt.UTC(), Deadline: r.Deadline.UTC(), Schema: r.Schema,
		}
		if r.EndedAt != nil {
			wait.EndedAt = r.EndedAt.UTC()
		}
		if r.EndedBy != nil {
			wait.EndedBy = *r.EndedBy
		}
		if r.ChildRun != nil {
			wait.ChildRunID = *r.ChildRun
		}
		if r.Request != nil {
			if err := json.Unmarshal([]byte(*r.Request), &wait.Request); err != nil {
				return nil, err
			}
		}
		if len(r.Entities) > 0 && string(r.Entities) != "{}" {
			if err := json.Unmarshal(r.Entities, &wait.Entities); err != nil {
				return nil, err
			}
		}
		waits[i] = wait
	}
	return waits, nil
}

func collectWait(rows pgx.Rows, err error) (*klaxontype.Wait, error) {
	waits, err := collectWaits(rows, err)
	if err != nil || len(waits) == 0 {
		return nil, err
	}
	return waits[0], nil
}

type signalRow struct {
	ID             int64      `db:"id"`
	RunID          string     `db:"run_id"`
	Name           string     `db:"name"`
	Payload        []byte     `db:"payload"`
	Actor          string     `db:"actor"`
	IdempotencyKey *string    `db:"idempotency_key"`
	SentAt         time.Time  `db:"sent_at"`
	ConsumedSeq    *int       `db:"consumed_seq"`
	ConsumedAt     *time.Time `db:"consumed_at"`
}

func (o opener) collectSignals(rows pgx.Rows, err error) ([]*klaxontype.Signal, error) {
	if err != nil {
		return nil, err
	}
	collected, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[signalRow])
	if err != nil {
		return nil, err
	}
	signals := make([]*klaxontype.Signal, len(collected))
	for i, r := range collected {
		payload, err := openColumn(o.keys, "payload", r.Payload)
		if err != nil {
			return nil, err
		}
		signal := &klaxontype.Signal{
			ID: r.ID, RunID: r.RunID, Name: r.Name, Payload: payload, Actor: r.Actor, SentAt: r.SentAt.UTC(),
		}
		if r.IdempotencyKey != nil {
			signal.IdempotencyKey = *r.IdempotencyKey
		}
		if r.ConsumedSeq != nil {
			signal.ConsumedSeq = *r.ConsumedSeq
		}
		if r.ConsumedAt != nil {
			signal.ConsumedAt = r.ConsumedAt.UTC()
		}
		signals[i] = signal
	}
	return signals, nil
}

func (o opener) collectSignal(rows pgx.Rows, err error) (*klaxontype.Signal, error) {
	signals, err := o.collectSignals(rows, err)
	if err != nil || len(signals) == 0 {
		return nil, err
	}
	return signals[0], nil
}

func (t *tx) WaitInsert(ctx context.Context, runID string, w *store.WaitParams) error {
	var request any
	if w.Request != nil {
		encoded, err := json.Marshal(w.Request)
		if err != nil {
			return err
		}
		request = string(encoded)
	}
	_, err := t.tx.Exec(ctx, waitInsertSQL, runID, w.Seq, w.Name, w.IdempotencyKey, string(w.Kind), w.StartedAt, w.Deadline,
		bytesOrNull(w.Schema), request, orNull(w.ChildRunID))
	return err
}

func (t *tx) WaitGet(ctx context.Context, runID string, seq int) (*klaxontype.Wait, error) {
	return collectWait(t.tx.Query(ctx, waitGetSQL, runID, seq))
}

func (t *tx) WaitOpen(ctx context.Context, runID, name string) (*klaxontype.Wait, error) {
	return collectWait(t.tx.Query(ctx, waitOpenSQL, runID, name))
}

func (t *tx) WaitClose(ctx context.Context, runID string, seq int, state klaxontype.WaitState, by string, at time.Time) error {
	_, err := t.tx.Exec(ctx, waitCloseSQL, runID, seq, string(state), by, at)
	return err
}

func (t *tx) WaitsReopen(ctx context.Context, runID string, from int) error {
	_, err := t.tx.Exec(ctx, waitsReopenSQL, runID, from)
	return err
}

func (t *tx) SignalInsert(ctx context.Context, s *klaxontype.Signal) (int64, error) {
	var id int64
	err := t.tx.QueryRow(ctx, signalInsertSQL, s.RunID, s.Name, t.keys.Seal([]byte(s.Payload)), s.Actor, orNull(s.IdempotencyKey), s.SentAt).Scan(&id)
	return id, err
}

func (t *tx) SignalByKey(ctx context.Context, runID, key string) (*klaxontype.Signal, error) {
	return opener{t.keys}.collectSignal(t.tx.Query(ctx, signalByKeySQL, runID, key))
}

func (t *tx) SignalKept(ctx context.Context, runID, name string) (*klaxontype.Signal, error) {
	return opener{t.keys}.collectSignal(t.tx.Query(ctx, signalKeptSQL, runID, name))
}

func (t *tx) SignalConsume(ctx context.Context, id int64, seq int, at time.Time) error {
	_, err := t.tx.Exec(ctx, signalConsumeSQL, id, seq, at)
	return err
}

func (t *tx) RunSuspend(ctx context.Context, lease store.Lease, holder string, until, at time.Time) (string, bool, error) {
	var workflow string
	err := t.tx.QueryRow(ctx, runSuspendSQL, lease.RunID, lease.Epoch, holder, until, at).Scan(&workflow)
	if err == pgx.ErrNoRows {
		return "", false, nil
	}
	return workflow, err == nil, err
}

func (t *tx) RunWake(ctx context.Context, runID string, at time.Time) error {
	_, err := t.tx.Exec(ctx, runWakeSQL, runID, at)
	return err
}

func (t *tx) RunsOpenOfEntity(ctx context.Context, key, value string) ([]string, error) {
	rows, err := t.tx.Query(ctx, runsOpenOfEntitySQL, key, value)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

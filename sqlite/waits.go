package sqlite

import (
	"context"
	"encoding/json"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/txn"
	"zombiezen.com/go/sqlite"
)

// WaitGet reads a run's wait at a sequence number; nil when none.
func (s *Store) WaitGet(ctx context.Context, runID string, seq int) (*klaxontype.Wait, error) {
	var wait *klaxontype.Wait
	err := s.read(ctx, func(conn *sqlite.Conn) (err error) {
		wait, err = getWait(conn, waitGetSQL, runID, seq)
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
	waits := []*klaxontype.Wait{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		waits = waits[:0]
		return execute(conn, waitListSQL, func(stmt *sqlite.Stmt) error {
			wait, err := scanWait(stmt)
			if err != nil {
				return err
			}
			waits = append(waits, wait)
			return nil
		}, nullIfEmpty(params.RunID), nullIfEmpty(string(params.Kind)), params.Open, limit)
	})
	return waits, err
}

// SignalList lists the signals sent to a run, oldest first.
func (s *Store) SignalList(ctx context.Context, runID string) ([]*klaxontype.Signal, error) {
	signals := []*klaxontype.Signal{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		signals = signals[:0]
		return execute(conn, signalListSQL, func(stmt *sqlite.Stmt) error {
			signal, err := scanSignal(stmt, s.keys)
			signals = append(signals, signal)
			return err
		}, runID)
	})
	return signals, err
}

func getWait(conn *sqlite.Conn, query string, args ...any) (*klaxontype.Wait, error) {
	var wait *klaxontype.Wait
	err := execute(conn, query, func(stmt *sqlite.Stmt) (err error) {
		wait, err = scanWait(stmt)
		return err
	}, args...)
	return wait, err
}

func scanWait(stmt *sqlite.Stmt) (*klaxontype.Wait, error) {
	wait := &klaxontype.Wait{
		RunID: stmt.GetText("run_id"), Workflow: stmt.GetText("workflow"), Seq: int(stmt.GetInt64("seq")),
		Name: stmt.GetText("name"), StepKey: stmt.GetText("step_key"), Kind: klaxontype.WaitKind(stmt.GetText("kind")),
		State: klaxontype.WaitState(stmt.GetText("state")), StartedAt: columnTime(stmt, "started_at"),
		Deadline: columnTime(stmt, "deadline"), Schema: columnBytes(stmt, "schema"),
		EndedAt: columnTime(stmt, "ended_at"), EndedBy: stmt.GetText("ended_by"),
		ChildRunID: stmt.GetText("child_run_id"),
	}
	if request := stmt.GetText("request"); request != "" {
		if err := json.Unmarshal([]byte(request), &wait.Request); err != nil {
			return nil, err
		}
	}
	if entities := stmt.GetText("entities"); entities != "" && entities != "{}" {
		if err := json.Unmarshal([]byte(entities), &wait.Entities); err != nil {
			return nil, err
		}
	}
	return wait, nil
}

func scanSignal(stmt *sqlite.Stmt, keys *store.Keyring) (*klaxontype.Signal, error) {
	payload, err := openColumn(stmt, "payload", keys)
	if err != nil {
		return nil, err
	}
	return &klaxontype.Signal{
		ID: stmt.GetInt64("id"), RunID: stmt.GetText("run_id"), Name: stmt.GetText("name"),
		Payload: payload, Actor: stmt.GetText("actor"),
		IdempotencyKey: stmt.GetText("idempotency_key"), SentAt: columnTime(stmt, "sent_at"),
		ConsumedSeq: int(stmt.GetInt64("consumed_seq")), ConsumedAt: columnTime(stmt, "consumed_at"),
	}, nil
}

func getSignal(conn *sqlite.Conn, keys *store.Keyring, query string, args ...any) (*klaxontype.Signal, error) {
	var signal *klaxontype.Signal
	err := execute(conn, query, func(stmt *sqlite.Stmt) (err error) {
		signal, err = scanSignal(stmt, keys)
		return err
	}, args...)
	return signal, err
}

func (t *tx) WaitInsert(_ context.Context, runID string, w *store.WaitParams) error {
	request, err := encodeRequest(w.Request)
	if err != nil {
		return err
	}
	return execute(t.conn, waitInsertSQL, nil, runID, w.Seq, w.Name, w.IdempotencyKey, string(w.Kind), w.StartedAt, w.Deadline,
		bytesOrNull(w.Schema), request, nullIfEmpty(w.ChildRunID))
}

// encodeRequest encodes an approval request, or gives NULL for none.
func encodeRequest(request *klaxontype.ApprovalRequest) (any, error) {
	if request == nil {
		return nil, nil
	}
	encoded, err := json.Marshal(request)
	if err != nil {
		return nil, err
	}
	return string(encoded), nil
}

func (t *tx) WaitGet(_ context.Context, runID string, seq int) (*klaxontype.Wait, error) {
	return getWait(t.conn, waitGetSQL, runID, seq)
}

func (t *tx) WaitOpen(_ context.Context, runID, name string) (*klaxontype.Wait, error) {
	return getWait(t.conn, waitOpenSQL, runID, name)
}

func (t *tx) WaitClose(_ context.Context, runID string, seq int, state klaxontype.WaitState, by string, at time.Time) error {
	return execute(t.conn, waitCloseSQL, nil, runID, seq, string(state), by, at)
}

func (t *tx) WaitsReopen(_ context.Context, runID string, from int) error {
	return execute(t.conn, waitsReopenSQL, nil, runID, from)
}

func (t *tx) SignalInsert(_ context.Context, s *klaxontype.Signal) (int64, error) {
	var id int64
	err := execute(t.conn, signalInsertSQL, func(stmt *sqlite.Stmt) error {
		id = stmt.GetInt64("id")
		return nil
	}, s.RunID, s.Name, t.keys.Seal([]byte(s.Payload)), s.Actor, nullIfEmpty(s.IdempotencyKey), s.SentAt)
	return id, err
}

func (t *tx) SignalByKey(_ context.Context, runID, key string) (*klaxontype.Signal, error) {
	return getSignal(t.conn, t.keys, signalByKeySQL, runID, key)
}

func (t *tx) SignalKept(_ context.Context, runID, name string) (*klaxontype.Signal, error) {
	return getSignal(t.conn, t.keys, signalKeptSQL, runID, name)
}

func (t *tx) SignalConsume(_ context.Context, id int64, seq int, at time.Time) error {
	return execute(t.conn, signalConsumeSQL, nil, id, seq, at)
}

// RunSuspend does not name the workflow: the workers of a SQLite file share
// its process, whose client wakes them.
func (t *tx) RunSuspend(_ context.Context, lease store.Lease, holder string, until, at time.Time) (string, bool, error) {
	held := false
	err := execute(t.conn, runSuspendSQL, func(*sqlite.Stmt) error {
		held = true
		return nil
	}, lease.RunID, lease.Epoch, holder, until, at)
	return "", held, err
}

func (t *tx) RunWake(_ context.Context, runID string, at time.Time) error {
	return execute(t.conn, runWakeSQL, nil, runID, at)
}

func (t *tx) RunsOpenOfEntity(_ context.Context, key, value string) ([]string, error) {
	var ids []string
	err := execute(t.conn, runsOpenOfEntitySQL, func(stmt *sqlite.Stmt) error {
		ids = append(ids, stmt.GetText("run_id"))
		return nil
	}, key, value)
	return ids, err
}

var _ txn.Tx = (*tx)(nil)

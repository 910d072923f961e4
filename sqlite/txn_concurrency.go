package sqlite

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store/txn"
	"zombiezen.com/go/sqlite"
)

// ConcurrencyLock does nothing: the writer is the only one to write, so
// no other judgement runs meanwhile.
func (t *tx) ConcurrencyLock(context.Context, string) error { return nil }

func (t *tx) ConcurrencyCount(_ context.Context, key string) (held, waitingLimit int, err error) {
	err = execute(t.conn, concurrencyCountSQL, func(stmt *sqlite.Stmt) error {
		held = int(stmt.GetInt64("held"))
		waitingLimit = int(stmt.GetInt64("waiting_limit"))
		return nil
	}, key)
	return held, waitingLimit, err
}

// RunJudge does not name the workflow: the workers of a SQLite file share
// its process, whose client wakes them.
func (t *tx) RunJudge(_ context.Context, p *txn.RunJudgeParams) (string, bool, error) {
	held := false
	err := execute(t.conn, runJudgeSQL, func(*sqlite.Stmt) error {
		held = true
		return nil
	}, p.Lease.RunID, p.Lease.Epoch, p.Holder, p.Key, p.Limit, string(p.Slot), p.At, klaxontype.ParkedUntil)
	return "", held, err
}

func (t *tx) RunsAdmitWaiting(_ context.Context, key string, n int, at time.Time) ([]txn.AdmittedRun, error) {
	var admitted []txn.AdmittedRun
	err := execute(t.conn, runsAdmitWaitingSQL, func(stmt *sqlite.Stmt) error {
		admitted = append(admitted, txn.AdmittedRun{ID: stmt.GetText("id"), Workflow: stmt.GetText("workflow")})
		return nil
	}, key, n, at)
	return admitted, err
}

func (t *tx) ConcurrencyWaitingKeys(context.Context) ([]string, error) {
	var keys []string
	err := execute(t.conn, concurrencyWaitingKeysSQL, func(stmt *sqlite.Stmt) error {
		keys = append(keys, stmt.GetText("concurrency_key"))
		return nil
	})
	return keys, err
}

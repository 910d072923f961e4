package scenarios_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// holdWrites takes the database's write lock, so that every write of the
// server and the workers waits (readers go on), and returns the function that
// lets them go. The stale-worker scenario holds it while the frozen worker
// resumes: the worker's step returns and sends its late checkpoint before its
// first heartbeat can find the takeover, however the two race, and the
// checkpoint is then refused by the fence rather than never sent.
func holdWrites(t *testing.T, db string) (release func()) {
	t.Helper()
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, db)
		if err != nil {
			t.Fatalf("connect to hold writes: %v", err)
		}
		tx, err := conn.Begin(ctx)
		if err == nil {
			// EXCLUSIVE lets plain reads through and stops every write.
			_, err = tx.Exec(ctx, "LOCK TABLE runs IN EXCLUSIVE MODE")
		}
		if err != nil {
			_ = conn.Close(ctx)
			t.Fatalf("hold writes: %v", err)
		}
		return func() {
			_ = tx.Rollback(ctx)
			_ = conn.Close(ctx)
		}
	}
	conn, err := sqlite.OpenConn(db, sqlite.OpenReadWrite|sqlite.OpenWAL)
	if err != nil {
		t.Fatalf("open to hold writes: %v", err)
	}
	conn.SetBusyTimeout(10 * time.Second)
	if err := sqlitex.ExecuteTransient(conn, "BEGIN IMMEDIATE", nil); err != nil {
		_ = conn.Close()
		t.Fatalf("hold writes: %v", err)
	}
	return func() {
		_ = sqlitex.ExecuteTransient(conn, "ROLLBACK", nil)
		_ = conn.Close()
	}
}

package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// Migration 0010 builds the outbox again to admit alert notifications: the
// notifications waiting in it before, of a breaker and of a dead letter, are
// still there afterwards and are still delivered.
func TestMigrationKeepsTheOutbox(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "klaxon.db")
	conn, err := sqlite.OpenConn(path, sqlite.OpenReadWrite|sqlite.OpenCreate)
	if err != nil {
		t.Fatal(err)
	}
	list, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if err := execute(conn, migrationsTableCreateSQL, nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.version >= 10 {
			break
		}
		if err := applyMigration(conn, m); err != nil {
			t.Fatalf("migration %d: %v", m.version, err)
		}
	}
	past := time.Now().Add(-time.Minute)
	err = execute(conn, `INSERT INTO outbox (entry_id, channel, state, attempts, next_attempt_at, last_error, created_at, kind, payload)
		VALUES ('', 'ops', 'pending', 2, ?1, '503', ?1, 'breaker', '{"workflow":"triage","open":true,"reason":"retry storm"}')`, nil, past)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	st, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	messages, err := st.OutboxClaim(ctx, &store.OutboxClaimParams{Holder: "h", Channels: []string{"ops"}, Limit: 10, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(messages) != 1 || messages[0].Kind != klaxontype.NotificationBreaker || messages[0].Payload.(*klaxontype.Breaker).Workflow != "triage" ||
		messages[0].Delivery.Attempts != 2 || messages[0].Delivery.LastError != "503" {
		t.Fatalf("after migrating, the outbox holds %+v", messages)
	}
	// And it takes alert notifications.
	_, fired, err := st.AlertFire(ctx, &store.AlertFireParams{
		ID: "01JDQ7ZK5X6V7W8Y9Z0A1B2C3D", Rule: "r", Kind: klaxontype.AlertBreakerOpen, Workflow: "triage",
		Severity: klaxontype.SeverityCritical, Summary: "open", Value: 1, Threshold: 1, At: time.Now(), Channels: []string{"alert:ops"},
	})
	if err != nil || !fired {
		t.Fatalf("AlertFire after migrating: %v, %v", fired, err)
	}
	if pending, err := st.OutboxCountPending(ctx); err != nil || pending != 2 {
		t.Fatalf("pending notifications %d, %v; want the breaker's and the alert's", pending, err)
	}
}

package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// An operator's actions are listed by klaxon audit, on the database and
// through a server alike, filtered by action and actor.
func TestAuditListsOperatorActions(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "audit.db")
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.BreakerTrip(context.Background(), &store.BreakerTripParams{
		Workflow: "summarize", Reason: "retry storm", Until: time.Now().Add(time.Hour), Actor: "worker-1",
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, nil, "breaker", "reset", "summarize", "--db", db, "--actor", testActor); code != exitOK {
		t.Fatalf("breaker reset: exit %d %q", code, stderr)
	}

	for _, env := range []map[string]string{nil, serverEnv(serveDatabase(t, db))} {
		args := []string{"audit", "--json"}
		if env == nil {
			args = append(args, "--db", db)
		}
		code, stdout, stderr := run(t, env, args...)
		var records []*klaxontype.AuditRecord
		if code != exitOK || json.Unmarshal([]byte(stdout), &records) != nil {
			t.Fatalf("audit --json: exit %d %q %q", code, stdout, stderr)
		}
		if len(records) != 1 || records[0].Action != klaxontype.AuditBreakerReset || records[0].Actor != testActor || records[0].Target != "summarize" {
			t.Fatalf("audit records %+v; want the one breaker reset by %s", records, testActor)
		}
		purges := []string{"audit", "--action", "dlq.purge"}
		if env == nil {
			purges = append(purges, "--db", db)
		}
		code, stdout, _ = run(t, env, purges...)
		if code != exitOK || !strings.Contains(stdout, "no operator actions") {
			t.Fatalf("audit --action dlq.purge: exit %d %q; want none", code, stdout)
		}
	}
	code, stdout, _ := run(t, nil, "audit", "--db", db, "--actor", testActor)
	if code != exitOK || !strings.Contains(stdout, "breaker.reset") || !strings.Contains(stdout, "summarize") {
		t.Fatalf("audit table: exit %d\n%s", code, stdout)
	}
	code, _, stderr := run(t, nil, "audit", "--db", db, "--action", "dlq.purged")
	if code != exitUsage || !strings.Contains(stderr, `"dlq.purged" is not an audited action`) {
		t.Fatalf("unknown action: exit %d %q", code, stderr)
	}
}

// klaxon enqueue is an operator's act, audited under its actor on the
// database and through a server alike; the server also records the admin
// token's use of the audit log, which --action admin.request lists.
func TestAuditRecordsEnqueuesAndAdminRequests(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "audit.db")
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.WorkflowRegister(context.Background(), &store.WorkflowRegisterParams{Name: "summarize", Version: 1})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, nil, "enqueue", "summarize", "--db", db, "--input", `{"doc": 1}`, "--actor", testActor); code != exitOK {
		t.Fatalf("enqueue on the database: exit %d %q", code, stderr)
	}
	env := serverEnv(serveDatabase(t, db))
	if code, _, stderr := run(t, env, "enqueue", "summarize", "--input", `{"doc": 2}`); code != exitOK {
		t.Fatalf("enqueue through the server: exit %d %q", code, stderr)
	}
	code, stdout, stderr := run(t, env, "audit", "--action", "run.enqueue", "--json")
	var records []*klaxontype.AuditRecord
	if code != exitOK || json.Unmarshal([]byte(stdout), &records) != nil {
		t.Fatalf("audit --action run.enqueue: exit %d %q %q", code, stdout, stderr)
	}
	if len(records) != 2 || records[0].Actor != testActor || records[1].Actor != testActor || records[0].Target == records[1].Target {
		t.Fatalf("run.enqueue records %+v; want the two enqueues by %s (the --actor, then the token's name)", records, testActor)
	}
	code, stdout, stderr = run(t, nil, "audit", "--db", db, "--action", "admin.request")
	if code != exitOK || !strings.Contains(stdout, "GET /api/v1/audit") || !strings.Contains(stdout, "200 OK") {
		t.Fatalf("audit --action admin.request: exit %d %q %q; want the server's audit read", code, stdout, stderr)
	}
}

package sqlite

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// A database whose workflows were registered before migration 0007 keeps
// them, with no input schema and no policies, and takes both afterwards.
func TestMigrationAddsWorkflowSchemaAndPolicies(t *testing.T) {
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
		if m.version >= 7 {
			break
		}
		if err := applyMigration(conn, m); err != nil {
			t.Fatalf("migration %d: %v", m.version, err)
		}
	}
	err = execute(conn, `INSERT INTO workflows (name, version, expected_steps, registered_at, updated_at) VALUES ('old', 3, '["a"]', ?1, ?1)`, nil, time.Now())
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
	workflows, err := st.WorkflowList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(workflows) != 1 || workflows[0].Name != "old" || workflows[0].Version != 3 || workflows[0].InputSchema != nil || workflows[0].Policies != nil {
		t.Fatalf("after migrating: %+v", workflows[0])
	}
	policies := &klaxontype.WorkflowPolicies{Retry: klaxontype.DefaultRetryPolicy}
	err = st.WorkflowRegister(ctx, &store.WorkflowRegisterParams{Name: "old", Version: 4, InputSchema: json.RawMessage(`{"type":"string"}`), Policies: policies})
	if err != nil {
		t.Fatal(err)
	}
	workflows, err = st.WorkflowList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := workflows[0]; string(got.InputSchema) != `{"type":"string"}` || got.Policies == nil || got.Policies.Retry.MaxAttempts != klaxontype.DefaultRetryPolicy.MaxAttempts {
		t.Fatalf("after registering again: %+v", got)
	}
}

// A database that has a newer migration but never got an older one (a
// migration merged after its successor was deployed) gets the older one at
// the next Open, and a read-only Open names what is missing.
func TestOpenAppliesAMigrationBelowTheNewestRecorded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gap.db")
	st, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	conn, err := sqlite.OpenConn(path, sqlite.OpenReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlitex.ExecuteScript(conn, "DROP TABLE encryption_keys; DELETE FROM klaxon_migrations WHERE version = 20;", nil); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if _, err := Open(ctx, path, &Options{NoMigrate: true}); err == nil || !strings.Contains(err.Error(), "lacks migrations [20]") {
		t.Errorf("a read-only open of a database without migration 20: %v", err)
	}
	st, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if applied := st.AppliedMigrations(); len(applied) != 1 || applied[0] != 20 {
		t.Errorf("applied %v, want [20]", applied)
	}
}

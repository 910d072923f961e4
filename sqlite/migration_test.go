package sqlite

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
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

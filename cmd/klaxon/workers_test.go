package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// klaxon workers lists the registry, on the database and through a server
// alike, with each worker's language, SDK version, runtime and workflows.
func TestWorkersListsTheRegistry(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "workers.db")
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.WorkerRegister(context.Background(), &store.WorkerRegisterParams{
		ID: "py-host-42-abc", Language: "python", SDKVersion: "0.1.0", Runtime: "CPython 3.11.2", Workflows: []string{"summarize", "classify"},
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	for _, env := range []map[string]string{nil, serverEnv(serveDatabase(t, db))} {
		args := []string{"workers", "--json"}
		if env == nil {
			args = append(args, "--db", db)
		}
		code, stdout, stderr := run(t, env, args...)
		var workers []*klaxontype.Worker
		if code != exitOK || json.Unmarshal([]byte(stdout), &workers) != nil {
			t.Fatalf("workers --json: exit %d %q %q", code, stdout, stderr)
		}
		if len(workers) != 1 || workers[0].ID != "py-host-42-abc" || workers[0].Language != "python" || workers[0].SDKVersion != "0.1.0" {
			t.Fatalf("workers %+v; want the python worker", workers)
		}
		table := []string{"workers"}
		if env == nil {
			table = append(table, "--db", db)
		}
		code, stdout, stderr = run(t, env, table...)
		if code != exitOK {
			t.Fatalf("workers: exit %d %q", code, stderr)
		}
		for _, want := range []string{"LANGUAGE", "SDK VERSION", "py-host-42-abc", "python", "0.1.0", "CPython 3.11.2", "classify,summarize", "ago"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("workers table lacks %q:\n%s", want, stdout)
			}
		}
	}
	code, _, stderr := run(t, nil, "workers", "--db", db, "--limit", "0")
	if code != exitUsage || !strings.Contains(stderr, "--limit 0") {
		t.Fatalf("--limit 0: exit %d %q", code, stderr)
	}
}

// An empty registry says so.
func TestWorkersWhenNoneRegistered(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "empty.db")
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	code, stdout, _ := run(t, nil, "workers", "--db", db)
	if code != exitOK || !strings.Contains(stdout, "no worker has registered") {
		t.Fatalf("workers on an empty database: exit %d %q", code, stdout)
	}
}

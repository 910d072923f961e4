package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"github.com/klaxonhq/klaxon/cmd/klaxon/demo"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// run executes the command in process and returns its exit code and output.
func run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(key string) string { return env[key] }}
	code = m.Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

func fileDigest(t *testing.T, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

func TestDemoThenInspectRuns(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "demo.db")
	code, stdout, stderr := run(t, nil, "demo", "--no-server", "--db", "sqlite://"+db, "--runs", "12", "--exit-when-done", "--json", "--seed", "7")
	if code != exitOK {
		t.Fatalf("demo exited %d: %s", code, stderr)
	}
	var summary demo.Summary
	if err := json.Unmarshal([]byte(stdout), &summary); err != nil {
		t.Fatalf("demo --json printed %q: %v", stdout, err)
	}
	if summary.RunsEnqueued != 12 || summary.Runs[klaxontype.RunStatusCompleted]+summary.Runs[klaxontype.RunStatusDead] != 12 {
		t.Fatalf("summary = %+v", summary)
	}
	if summary.StepsExecuted < int64(5*summary.Runs[klaxontype.RunStatusCompleted]) {
		t.Fatalf("%d steps executed for %d completed runs", summary.StepsExecuted, summary.Runs[klaxontype.RunStatusCompleted])
	}

	code, stdout, _ = run(t, map[string]string{"KLAXON_DB": db}, "runs", "list", "--json", "--entity", "document_id=doc-00003")
	var runs []*klaxontype.Run
	if code != exitOK || json.Unmarshal([]byte(stdout), &runs) != nil || len(runs) != 1 {
		t.Fatalf("runs list by entity: exit %d, %q", code, stdout)
	}
	code, stdout, _ = run(t, map[string]string{"KLAXON_DB": db}, "runs", "show", runs[0].ID, "--json")
	var detail runDetail
	if code != exitOK || json.Unmarshal([]byte(stdout), &detail) != nil {
		t.Fatalf("runs show: exit %d, %q", code, stdout)
	}
	if detail.Run.ID != runs[0].ID || len(detail.Events) == 0 || detail.Manifest == nil || len(detail.Manifest.Expected) != 5 {
		t.Fatalf("runs show detail = %+v", detail)
	}
	if detail.Run.Status == klaxontype.RunStatusCompleted && (len(detail.Steps) != 5 || len(detail.Manifest.Missing) != 0) {
		t.Fatalf("a completed demo run shows %d steps, missing %v", len(detail.Steps), detail.Manifest.Missing)
	}
	code, stdout, _ = run(t, nil, "--db", db, "runs", "show", runs[0].ID)
	for _, want := range []string{"Step log", "Event log", "run.enqueued", "Manifest: "} {
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Fatalf("runs show lacks %q:\n%s", want, stdout)
		}
	}

	// A second demo with no new runs finds nothing left to do.
	code, stdout, _ = run(t, nil, "demo", "--no-server", "--db", db, "--runs", "0", "--exit-when-done")
	if code != exitOK || !strings.Contains(stdout, "0 runs enqueued now, 12 demo runs in the database") {
		t.Fatalf("second demo: exit %d\n%s", code, stdout)
	}
}

func TestLookingChangesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo.db")
	code, _, stderr := run(t, nil, "runs", "list", "--db", missing)
	if code != exitError || !strings.Contains(stderr, "typo.db does not exist") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatal("runs list created the database it was asked to read")
	}
}

func TestBadInputIsRefusedClearly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	if code, _, stderr := run(t, nil, "migrate", "--db", db); code != exitOK {
		t.Fatalf("migrate: %s", stderr)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"runs", "list", "--db", db, "--status", "finished"}, exitUsage, `--status "finished" is not a run status`},
		{[]string{"runs", "list", "--db", db, "--entity", "document_id"}, exitUsage, `--entity "document_id" is not key=value`},
		{[]string{"runs", "list", "--db", db, "--limit", "0"}, exitUsage, "--limit must be between 1 and 10000"},
		{[]string{"runs", "show", "--db", db, "01NOPE"}, exitError, "run 01NOPE not found"},
		{[]string{"runs", "show", "--db", db}, exitUsage, "takes one run ID"},
		{[]string{"runs", "list", "--db", "postgres://me:secret@db.invalid/klaxon"}, exitError, "me:***@db.invalid"},
		{[]string{"runs", "list", "--db", "mysql://db/klaxon"}, exitUsage, `unknown scheme "mysql"`},
		{[]string{"demo", "--db", filepath.Join(dir, "no", "such", "dir", "k.db")}, exitError, "does not exist"},
		{[]string{"demo", "--db", db, "--runs", "-3"}, exitUsage, "--runs must be 0 or more"},
		{[]string{"demo", "--db", db, "--error-rate", "1.5"}, exitUsage, "--error-rate must be between 0 and 1"},
		{[]string{"demo", "--db", db, "--bogus"}, exitUsage, "unknown flag: --bogus"},
		{[]string{"demo", "--db", db, "--no-enqueue", "--no-work"}, exitUsage, "leave nothing to do"},
		{[]string{"demo", "--db", db, "--no-enqueue", "--runs", "5"}, exitUsage, "--no-enqueue enqueues nothing"},
		{[]string{"runs", "lsit", "--db", db}, exitUsage, `unknown command "lsit"`},
	} {
		code, _, stderr := run(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("klaxon %s: exit %d, stderr %q; want exit %d mentioning %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
		}
		if strings.Contains(stderr, "secret") {
			t.Errorf("klaxon %s printed the password: %q", strings.Join(tc.args, " "), stderr)
		}
	}
}

func TestForeignOrNewerDatabaseIsRefusedUnchanged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	garbage := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a database\n"), 400), 0o644); err != nil {
		t.Fatal(err)
	}
	before := fileDigest(t, garbage)
	code, _, stderr := run(t, nil, "demo", "--no-server", "--db", garbage, "--runs", "1", "--exit-when-done")
	if code != exitError || !strings.Contains(stderr, "not a SQLite database") {
		t.Fatalf("garbage file: exit %d, %q", code, stderr)
	}
	if fileDigest(t, garbage) != before {
		t.Fatal("the demo changed a file that is not a database")
	}

	newer := filepath.Join(dir, "newer.db")
	if code, _, stderr := run(t, nil, "migrate", "--db", newer); code != exitOK {
		t.Fatal(stderr)
	}
	conn, err := sqlite.OpenConn(newer)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlitex.ExecuteTransient(conn, "INSERT INTO klaxon_migrations (version, name, applied_at) VALUES (999, 'future', 0)", nil); err != nil {
		t.Fatal(err)
	}
	if err := sqlitex.ExecuteTransient(conn, "PRAGMA wal_checkpoint(TRUNCATE)", nil); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	before = fileDigest(t, newer)
	for _, args := range [][]string{{"migrate"}, {"demo", "--no-server", "--runs", "1", "--exit-when-done"}, {"runs", "list"}} {
		code, _, stderr := run(t, nil, append(args, "--db", newer)...)
		if code != exitError || !strings.Contains(stderr, "schema version 999 is newer than this klaxon supports") {
			t.Errorf("klaxon %s on a newer schema: exit %d, %q", args[0], code, stderr)
		}
	}
	if fileDigest(t, newer) != before {
		t.Fatal("a database with a newer schema was changed")
	}
}

func TestVersionAndMigrate(t *testing.T) {
	t.Parallel()
	code, stdout, _ := run(t, nil, "version", "--json")
	var info versionInfo
	if code != exitOK || json.Unmarshal([]byte(stdout), &info) != nil || info.SchemaVersion < 1 {
		t.Fatalf("version --json: exit %d %q", code, stdout)
	}
	db := filepath.Join(t.TempDir(), "m.db")
	code, stdout, _ = run(t, nil, "migrate", "--db", db, "--json")
	var result migrateResult
	// Every migration is applied, in order, the newest last: the schema
	// version. (Numbers may leave a gap while a branch that reserved one is
	// unmerged.)
	if code != exitOK || json.Unmarshal([]byte(stdout), &result) != nil || len(result.Applied) == 0 ||
		result.Applied[0] != 1 || result.Applied[len(result.Applied)-1] != info.SchemaVersion || !slices.IsSorted(result.Applied) {
		t.Fatalf("first migrate: exit %d %q", code, stdout)
	}
	code, stdout, _ = run(t, nil, "migrate", "--db", db)
	if code != exitOK || !strings.Contains(stdout, "schema already at version") {
		t.Fatalf("second migrate: exit %d %q", code, stdout)
	}
}

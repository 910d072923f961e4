package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// A server given --retention applies its rules periodically: the ended runs
// they select go, in batches recorded by actor "retention", and a run with
// an open dead-letter entry stays.
func TestServerAppliesRetention(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "retention.db")
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.WorkflowRegister(context.Background(), &store.WorkflowRegisterParams{Name: "summarize", Version: 1}); err != nil {
		t.Fatal(err)
	}
	endRun(t, st, "01JRUNCOMPLETED0000000001", "summarize", false)
	endRun(t, st, "01JRUNCOMPLETED0000000002", "summarize", false)
	endRun(t, st, "01JRUNDEADOPEN00000000003", "summarize", true)
	st.Close()
	rules := filepath.Join(dir, "retention.yml")
	if err := os.WriteFile(rules, []byte("interval: 1s\nbatch: 1\nrules:\n  - older_than: 1ms\n    statuses: [completed, dead]\n    export: archive.jsonl\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stop := startServer(t, nil, "--db", db, "--addr", "127.0.0.1:0", "--retention", rules)
	defer stop()

	st, err = sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		records, err := st.AuditList(context.Background(), &store.AuditListParams{Action: klaxontype.AuditRetentionDelete})
		if err != nil {
			t.Fatal(err)
		}
		if len(records) == 2 {
			for _, r := range records {
				if r.Actor != "retention" || !strings.Contains(string(r.Params), "completed or dead that finished more than 1ms ago") {
					t.Errorf("audit record %+v (params %s); want actor retention and the rule", r, r.Params)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15s, %d retention batches recorded; want 2 (batch: 1, two completed runs)", len(records))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, id := range []string{"01JRUNCOMPLETED0000000001", "01JRUNCOMPLETED0000000002"} {
		if _, err := st.RunGet(context.Background(), id); !errors.Is(err, klaxontype.ErrNotFound) {
			t.Errorf("run %s: %v; want deleted", id, err)
		}
	}
	if run, err := st.RunGet(context.Background(), "01JRUNDEADOPEN00000000003"); err != nil || run.Status != klaxontype.RunStatusDead {
		t.Errorf("the run with an open entry: %v, %v; want it kept", run, err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "archive.jsonl")); err != nil || strings.Count(string(data), "\n") != 2 {
		t.Errorf("the export next to the rules file: %v, %d lines; want the two deleted runs", err, strings.Count(string(data), "\n"))
	}
}

// A bad retention file is refused, by klaxon retention check and by the
// server before it opens the database, with the rule, line and field.
func TestRetentionFileRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, bad := range []struct{ name, text, want string }{
		{"empty", "", "the file is empty"},
		{"no rules", "interval: 1h\n", "no rules"},
		{"misspelt field", "rules:\n  - older_than: 30d\n    status: [dead]\n", `line 3: unknown field "status"`},
		{"misspelt top field", "intervl: 1h\nrules:\n  - older_than: 30d\n", `unknown field "intervl"`},
		{"no age", "rules:\n  - statuses: [dead]\n", "rule 1 (line 2): older_than is required"},
		{"bad age", "rules:\n  - older_than: 30x\n", `older_than "30x": not a positive duration`},
		{"not ended", "rules:\n  - older_than: 30d\n  - older_than: 1d\n    statuses: [running]\n", `rule 2 (line 3): status "running": retention deletes only ended runs`},
		{"batch", "rules:\n  - older_than: 30d\n    batch: 20000\n", "batch 20000: give 1 to 10000"},
		{"interval", "interval: 10ms\nrules:\n  - older_than: 30d\n", `interval "10ms": give at least 1s`},
		{"export folder", "rules:\n  - older_than: 30d\n    export: /nonexistent/archive.jsonl\n", "its folder /nonexistent does not exist"},
		{"not a list", "rules:\n  older_than: 30d\n", "rules is a list of rules"},
		{"not yaml", "rules: [\n", "retention file"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(bad.name, " ", "-")+".yml")
		if err := os.WriteFile(path, []byte(bad.text), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := run(t, nil, "retention", "check", path); code == exitOK || !strings.Contains(stderr, bad.want) {
			t.Errorf("%s: check exit %d %q; want it refused saying %q", bad.name, code, stderr, bad.want)
		}
		db := filepath.Join(dir, "never.db")
		if code, _, stderr := run(t, nil, "server", "--db", db, "--addr", "127.0.0.1:0", "--retention", path); code == exitOK || !strings.Contains(stderr, bad.want) {
			t.Errorf("%s: server exit %d %q; want it refused saying %q", bad.name, code, stderr, bad.want)
		}
		if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: the server created the database before refusing its retention file", bad.name)
		}
	}
	good := filepath.Join(dir, "good.yml")
	if err := os.WriteFile(good, []byte("rules:\n  - older_than: 30d\n    statuses: [completed]\n  - older_than: 90d\n    workflows: [summarize]\n    batch: 500\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, nil, "retention", "check", good)
	if code != exitOK || !strings.Contains(stdout, "2 rules, applied every 1h") ||
		!strings.Contains(stdout, "rule 2: runs completed, dead and cancelled of summarize that ended more than 90d ago, 500 a batch") {
		t.Errorf("check of a good file: exit %d %q %q", code, stdout, stderr)
	}
}

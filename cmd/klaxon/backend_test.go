package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// The token serveDatabase configures: an admin token named like the --actor
// the direct commands are given, so that both record the same actor.
const (
	testActor  = "oncall"
	testSecret = "oncall-secret-0123456789"
)

// serveDatabase serves the HTTP API over a database file, as `klaxon server`
// does, with one admin token, and returns its URL.
func serveDatabase(t *testing.T, db string) string {
	t.Helper()
	st, err := sqlite.Open(context.Background(), db, &sqlite.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := klaxonhttp.NewTokens(klaxonhttp.Token{Name: testActor, Scope: klaxonhttp.ScopeAdmin, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	server, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	httpServer := httptest.NewServer(server.Handler())
	t.Cleanup(func() {
		httpServer.Close()
		st.Close()
	})
	return httpServer.URL
}

// serverEnv points the commands at a server through the environment, as a
// script would.
func serverEnv(url string) map[string]string {
	return map[string]string{"KLAXON_SERVER": url, "KLAXON_TOKEN": testSecret}
}

// copyDatabase copies a closed SQLite database, so that a command that acts
// can run once directly and once through a server on the same data.
func copyDatabase(t *testing.T, db string) string {
	t.Helper()
	copied := filepath.Join(t.TempDir(), "copy.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		data, err := os.ReadFile(db + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(copied+suffix, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return copied
}

// runIn is run with standard input.
func runIn(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Getenv: func(key string) string { return env[key] }}
	code = m.Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

// withoutTimes blanks the JSON fields that say when something happened, which
// differ between two databases that did the same thing a moment apart. A
// document that is not JSON is returned unchanged.
func withoutTimes(t *testing.T, document string, alsoKeys ...string) string {
	t.Helper()
	var value any
	if err := json.Unmarshal([]byte(document), &value); err != nil {
		return document
	}
	var blank func(any)
	blank = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for key, field := range v {
				if key == "at" || strings.HasSuffix(key, "_at") || key == "duration_ns" || key == "duration" || contains(alsoKeys, key) {
					v[key] = "…"
					continue
				}
				blank(field)
			}
		case []any:
			for _, item := range v {
				blank(item)
			}
		}
	}
	blank(value)
	out, err := json.MarshalIndent(value, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func contains(list []string, s string) bool {
	for _, item := range list {
		if item == s {
			return true
		}
	}
	return false
}

// bothWays runs a command on the database and through a server over it and
// fails unless both succeed with the same output.
func bothWays(t *testing.T, db, url string, args ...string) string {
	t.Helper()
	code, direct, stderr := run(t, nil, append(args, "--db", db)...)
	if code != exitOK {
		t.Fatalf("klaxon %s --db: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	code, served, stderr := run(t, serverEnv(url), args...)
	if code != exitOK {
		t.Fatalf("klaxon %s through the server: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	if direct != served {
		t.Errorf("klaxon %s differs:\n--- on the database\n%s\n--- through the server\n%s", strings.Join(args, " "), direct, served)
	}
	return direct
}

func TestLookingBothWaysPrintsTheSame(t *testing.T) {
	t.Parallel()
	db := classFixture(t)
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.BreakerTrip(context.Background(), &store.BreakerTripParams{
		Workflow: "triage", Reason: "retry storm: 9 of the last 10 attempts failed", Until: time.Now().Add(time.Hour), Actor: "worker-1",
	})
	if err == nil {
		// The built-in rules raise alerts over the fixture: the breaker, and
		// whatever its dead letters amount to.
		_, err = alert.NewEvaluator(st, alert.DefaultConfig(), nil, nil).Evaluate(context.Background())
	}
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	url := serveDatabase(t, db)
	if out := bothWays(t, db, url, "alerts"); !strings.Contains(out, "breaker-open") {
		t.Errorf("klaxon alerts lists no breaker-open alert:\n%s", out)
	}

	entries := listEntries(t, db, "--class", "permanent")
	runs := bothWays(t, db, url, "runs", "list", "--json")
	var listed []*klaxontype.Run
	if err := json.Unmarshal([]byte(runs), &listed); err != nil || len(listed) != fixtureEntries {
		t.Fatalf("runs list --json: %v %q", err, runs)
	}
	for _, args := range [][]string{
		{"runs", "list"},
		{"runs", "list", "--status", "dead", "--entity", "ticket=2", "--json"},
		{"runs", "list", "--limit", "2"},
		{"runs", "list", "--limit", "2", "--before", listed[1].ID, "--json"},
		{"runs", "list", "--workflow", "nothing"},
		{"runs", "list", "--since", "1h", "--status", "dead", "--json"},
		{"runs", "list", "--until", "1h"},
		{"runs", "show", listed[0].ID},
		{"runs", "show", listed[0].ID, "--json"},
		{"dlq", "list"},
		{"dlq", "list", "--class", "permanent,policy_violation", "--channel", "review", "--json"},
		{"dlq", "list", "--state", "resolved", "--json"},
		{"dlq", "list", "--since", "1h", "--limit", "1"},
		{"dlq", "show", entries[0].ID},
		{"dlq", "show", entries[0].ID, "--json"},
		{"dlq", "replay", entries[0].ID, "--dry-run"},
		{"dlq", "replay", entries[0].ID, "--mode", "from-step", "--step", "fetch", "--dry-run", "--json"},
		{"dlq", "replay", "--all-matching", "--class", "permanent", "--dry-run"},
		{"dlq", "replay", "--all-matching", "--dry-run", "--json"},
		{"dlq", "discard", "--all-matching", "--class", "permanent", "--dry-run", "--reason", "cleanup"},
		{"dlq", "discard", "--all-matching", "--dry-run", "--reason", "cleanup", "--json"},
		{"dlq", "purge", "--state", "open"},
		{"dlq", "purge", "--all", "--json"},
		{"breaker", "list"},
		{"breaker", "list", "--json"},
		{"outbox", "list"},
		{"outbox", "list", "--json"},
		{"alerts", "--json"},
		{"alerts", "--state", "firing"},
		{"alerts", "--state", "resolved", "--json"},
	} {
		bothWays(t, db, url, args...)
	}

	// Lists longer than a server's page are read a page at a time.
	smallPages, err := newServerBackend(url, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	smallPages.pageSize = 2
	ctx := context.Background()
	pagedRuns, err := smallPages.Runs(ctx, &store.RunListParams{Limit: 5})
	if err != nil || len(pagedRuns) != 5 {
		t.Fatalf("5 runs in pages of 2: %d, %v", len(pagedRuns), err)
	}
	for i, run := range pagedRuns {
		if run.ID != listed[i].ID {
			t.Fatalf("run %d of the paged list is %s; want %s", i, run.ID, listed[i].ID)
		}
	}
	pagedEntries, err := smallPages.DeadLetters(ctx, &klaxon.DeadLetterFilter{Limit: 100})
	if err != nil || len(pagedEntries) != fixtureEntries {
		t.Fatalf("all entries in pages of 2: %d, %v", len(pagedEntries), err)
	}

	// Not found is reported the same way, naming where the command looked.
	for _, args := range [][]string{{"runs", "show", "01NOPE"}, {"dlq", "show", "01NOPE"}} {
		code, _, stderr := run(t, serverEnv(url), args...)
		if code != exitError || !strings.Contains(stderr, "01NOPE not found in "+url) {
			t.Errorf("klaxon %s through the server: exit %d, %q", strings.Join(args, " "), code, stderr)
		}
	}
}

func TestActingBothWaysDoesTheSame(t *testing.T) {
	t.Parallel()
	db := classFixture(t)
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.BreakerTrip(context.Background(), &store.BreakerTripParams{
		Workflow: "triage", Reason: "spend rate", Until: time.Now().Add(time.Hour), Actor: "worker-1",
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	served := copyDatabase(t, db)
	url := serveDatabase(t, served)

	permanent := listEntries(t, db, "--class", "permanent")
	policy := listEntries(t, db, "--class", "policy_violation")
	output := writeFile(t, t.TempDir(), "verdict.json", `{"label": "spam", "score": 3}`)

	// actBothWays runs an acting command on the database as testActor, and
	// through the server over its copy with testActor's token.
	actBothWays := func(args ...string) string {
		t.Helper()
		code, direct, stderr := run(t, nil, append(args, "--db", db, "--actor", testActor)...)
		if code != exitOK {
			t.Fatalf("klaxon %s --db: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		code, viaServer, stderr := run(t, nil, append(args, "--server", url, "--token", testSecret)...)
		if code != exitOK {
			t.Fatalf("klaxon %s --server: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		if withoutTimes(t, direct) != withoutTimes(t, viaServer) {
			t.Errorf("klaxon %s differs:\n--- on the database\n%s\n--- through the server\n%s", strings.Join(args, " "), direct, viaServer)
		}
		return direct
	}
	actBothWays("dlq", "replay", permanent[0].ID)
	actBothWays("dlq", "replay", permanent[1].ID, "--mode", "from-step", "--step", "decide", "--json")
	actBothWays("dlq", "discard", permanent[2].ID, "--reason", "a duplicate")
	actBothWays("dlq", "resolve", policy[0].ID, "--step", "decide", "--output", output, "--json")
	actBothWays("dlq", "discard", policy[1].ID, "--reason", "a test ticket", "--json")
	// Confirmed with a snapshot, a bulk action acts only on its entries: one
	// that no longer matches is skipped, and the matching one outside it is
	// left for the next command.
	if out := actBothWays("dlq", "replay", "--all-matching", "--class", "context_overflow", "--entries", permanent[0].ID, "--json"); !strings.Contains(out, `"replayed": 0`) || !strings.Contains(out, `"skipped": 1`) {
		t.Errorf("a replay confirmed with a snapshot of one changed entry said %s; want nothing replayed, 1 skipped", out)
	}
	actBothWays("dlq", "replay", "--all-matching", "--class", "context_overflow", "--json")
	actBothWays("dlq", "discard", "--all-matching", "--class", "permanent", "--reason", "known bad batch", "--json")
	actBothWays("runs", "cancel", permanent[0].RunID, "--reason", "the customer withdrew")
	actBothWays("runs", "cancel", permanent[1].RunID, "--json")
	actBothWays("dlq", "purge", "--state", "discarded", "--yes", "--json")
	actBothWays("breaker", "reset", "triage")
	if out := actBothWays("outbox", "give-up", "--channel", permanent[0].Channel, "--reason", "the hook was removed"); !strings.Contains(out, "gave up ") {
		t.Errorf("outbox give-up of %s said %q; want what it gave up", permanent[0].Channel, out)
	}
	actBothWays("outbox", "give-up", "--channel", "nowhere", "--reason", "nothing there", "--json")

	// Afterwards both databases hold the same runs, entries, events and
	// breakers, with the same actor.
	for _, args := range [][]string{
		{"runs", "list", "--json", "--limit", "10000"},
		{"dlq", "list", "--json", "--limit", "10000"},
		{"runs", "show", permanent[0].RunID, "--json"},
		{"runs", "show", policy[0].RunID, "--json"},
		{"breaker", "list", "--json"},
		{"outbox", "list", "--json"},
	} {
		_, direct, _ := run(t, nil, append(args, "--db", db)...)
		_, copied, _ := run(t, nil, append(args, "--db", served)...)
		if withoutTimes(t, direct) != withoutTimes(t, copied) {
			t.Errorf("after acting both ways, klaxon %s differs:\n--- on the database\n%s\n--- through the server\n%s", strings.Join(args, " "), direct, copied)
		}
		if strings.Contains(args[0], "runs") && args[1] == "show" && !strings.Contains(copied, `"actor": "`+testActor+`"`) {
			t.Errorf("klaxon %s: no event by the token %s:\n%s", strings.Join(args, " "), testActor, copied)
		}
	}
}

func TestEnqueueBothWays(t *testing.T) {
	t.Parallel()
	db, _, _ := cancelFixture(t)
	served := copyDatabase(t, db)
	url := serveDatabase(t, served)
	input := writeFile(t, t.TempDir(), "input.json", "42\n")

	for _, target := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"database", nil, []string{"--db", db}},
		{"server", serverEnv(url), nil},
	} {
		enqueue := func(stdin string, args ...string) (int, string, string) {
			t.Helper()
			return runIn(t, target.env, stdin, append(append([]string{"enqueue"}, args...), target.args...)...)
		}
		code, stdout, stderr := enqueue("", "echo", "--input", "7", "--idempotency-key", "upload-1", "--entity", "document_id=doc-1", "--json")
		var created klaxonhttp.EnqueueResponse
		if code != exitOK || json.Unmarshal([]byte(stdout), &created) != nil || created.Deduplicated ||
			created.Run.Workflow != "echo" || string(created.Run.Input) != "7" || created.Run.Entities["document_id"] != "doc-1" {
			t.Fatalf("%s: enqueue: exit %d %q %q", target.name, code, stdout, stderr)
		}
		// The same key again, from a file this time: the same run, nothing new.
		code, stdout, stderr = enqueue("", "echo", "--input", "@"+input, "--idempotency-key", "upload-1", "--json")
		var again klaxonhttp.EnqueueResponse
		if code != exitOK || json.Unmarshal([]byte(stdout), &again) != nil || !again.Deduplicated || again.Run.ID != created.Run.ID {
			t.Fatalf("%s: enqueue with the same key: exit %d %q %q", target.name, code, stdout, stderr)
		}
		code, stdout, _ = enqueue("", "echo", "--input", "8", "--idempotency-key", "upload-1")
		if code != exitOK || !strings.Contains(stdout, "run "+created.Run.ID+" of echo already exists for idempotency key \"upload-1\" (pending); nothing was enqueued") {
			t.Fatalf("%s: deduplicated text: exit %d %q", target.name, code, stdout)
		}
		code, stdout, stderr = enqueue("\n  9\n", "echo", "--input", "-")
		if code != exitOK || !strings.Contains(stdout, "of echo created (pending)") {
			t.Fatalf("%s: enqueue from standard input: exit %d %q %q", target.name, code, stdout, stderr)
		}

		before := snapshot(t, map[string]string{"database": db, "server": served}[target.name])
		for _, tc := range []struct {
			stdin string
			args  []string
			code  int
			want  string
		}{
			{"", []string{"ehco", "--input", "1"}, exitError, `workflow "ehco" is not registered in `},
			{"", []string{"ehco", "--input", "1"}, exitError, "(registered: echo); nothing was enqueued"},
			{"", []string{"echo", "--input", `{"n":1}`}, exitError, `input of workflow "echo"`},
			{"", []string{"echo", "--input", `{"n":1}`}, exitError, "at /: got object, want null or integer"},
			{"", []string{"echo", "--input", "{oops"}, exitUsage, "--input is not valid JSON"},
			{"", []string{"echo", "--input", "@" + input + ".missing"}, exitUsage, "--input: open"},
			{"[1,", []string{"echo", "--input", "-"}, exitUsage, "--input standard input is not valid JSON"},
			{"", []string{"echo"}, exitUsage, "--input is required"},
			{"", []string{"echo", "--input", "1", "--entity", "document_id"}, exitUsage, `--entity "document_id" is not key=value`},
			{"", []string{"--input", "1"}, exitUsage, "takes one workflow name"},
		} {
			code, _, stderr := enqueue(tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("%s: klaxon enqueue %s: exit %d, %q; want exit %d mentioning %q", target.name, strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
			}
		}
		if after := snapshot(t, map[string]string{"database": db, "server": served}[target.name]); after != before {
			t.Errorf("%s: a refused enqueue changed the database", target.name)
		}
	}
	// Both databases got the same runs.
	_, direct, _ := run(t, nil, "runs", "list", "--db", db, "--json")
	_, copied, _ := run(t, nil, "runs", "list", "--db", served, "--json")
	if withoutTimes(t, direct, "id") != withoutTimes(t, copied, "id") {
		t.Errorf("enqueues differ:\n--- on the database\n%s\n--- through the server\n%s", direct, copied)
	}
}

func TestServerFlagsRefuseMistakes(t *testing.T) {
	t.Parallel()
	db, pending, _ := cancelFixture(t)
	url := serveDatabase(t, copyDatabase(t, db))
	for _, tc := range []struct {
		env  map[string]string
		args []string
		code int
		want string
	}{
		{nil, []string{"runs", "list", "--server", "ftp://example.com"}, exitUsage, `--server "ftp://example.com" is not an http:// or https:// URL`},
		{nil, []string{"runs", "list", "--server", "localhost:7070"}, exitUsage, "is not an http:// or https:// URL"},
		{nil, []string{"dlq", "list", "--server", "http://admin:hunter2-secret@"}, exitUsage, "admin:xxxxx@"},
		{nil, []string{"breaker", "list", "--server", "http://%zz"}, exitUsage, "--server is not a URL"},
		{nil, []string{"runs", "list", "--server", url, "--token", "wrong-secret-0123456789"}, exitError, "401 Unauthorized: the access token is not one this server knows"},
		{map[string]string{"KLAXON_SERVER": url}, []string{"runs", "list"}, exitError, "this operation needs an access token"},
		{nil, []string{"runs", "list", "--server", url, "--db", db}, exitUsage, "give --server or --db, not both"},
		{nil, []string{"runs", "list", "--token", testSecret, "--db", db}, exitUsage, "--token is presented to a server"},
		{serverEnv(url), []string{"runs", "list", "--since", "yesterday"}, exitUsage, `--since "yesterday" is neither an RFC 3339 time`},
		{serverEnv(url), []string{"runs", "list", "--since", "1h", "--until", "2h"}, exitUsage, "--since 1h is not before --until 2h"},
		{serverEnv(url), []string{"runs", "cancel", pending, "--actor", "carol"}, exitUsage, "--actor is for --db"},
		{serverEnv(url), []string{"dlq", "discard", "01NOPE", "--reason", "x", "--actor", "carol"}, exitUsage, "--actor is for --db"},
	} {
		code, stdout, stderr := run(t, tc.env, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("klaxon %s: exit %d, %q; want exit %d mentioning %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
		}
		for _, secret := range []string{testSecret, "wrong-secret", "hunter2"} {
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("klaxon %s printed a secret: %q %q", strings.Join(tc.args, " "), stdout, stderr)
			}
		}
	}

	// An explicit --db wins over KLAXON_SERVER from the environment.
	code, stdout, stderr := run(t, map[string]string{"KLAXON_SERVER": "http://127.0.0.1:1"}, "runs", "list", "--db", db, "--json")
	if code != exitOK || !strings.Contains(stdout, pending) {
		t.Fatalf("--db with KLAXON_SERVER set: exit %d %q %q", code, stdout, stderr)
	}
	// Help shows the flags but never the token from the environment.
	code, stdout, _ = run(t, serverEnv(url), "runs", "list", "--help")
	if code != exitOK || !strings.Contains(stdout, "--server") || strings.Contains(stdout, testSecret) {
		t.Fatalf("runs list --help: exit %d\n%s", code, stdout)
	}
}

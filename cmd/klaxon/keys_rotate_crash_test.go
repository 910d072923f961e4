package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/postgres"
	klaxonsqlite "github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// sealedColumns are the columns keys rotate re-seals, each with an
// expression naming its row, the same in SQLite and PostgreSQL.
var sealedColumns = []struct{ table, row, column string }{
	{"runs", "id", "input"},
	{"runs", "id", "output"},
	{"steps", "run_id || '/' || seq", "output"},
	{"steps_archive", "run_id || '/' || generation || '/' || seq", "output"},
	{"dlq_entries", "id", "input"},
	{"signals", "run_id || '/' || name", "payload"},
	{"schedules", "name", "input"},
}

// rawValues reads every sealed value of a database behind the store's back,
// keyed by "table.column row".
type rawValues func(t *testing.T) map[string][]byte

func sqliteRawValues(path string) rawValues {
	return func(t *testing.T) map[string][]byte {
		t.Helper()
		conn, err := sqlite.OpenConn(path, sqlite.OpenReadOnly)
		if err != nil {
			t.Fatalf("open %s to read its rows: %v", path, err)
		}
		defer conn.Close()
		values := map[string][]byte{}
		for _, c := range sealedColumns {
			query := fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s IS NOT NULL", c.row, c.column, c.table, c.column)
			err := sqlitex.ExecuteTransient(conn, query, &sqlitex.ExecOptions{ResultFunc: func(stmt *sqlite.Stmt) error {
				value := make([]byte, stmt.ColumnLen(1))
				stmt.ColumnBytes(1, value)
				values[c.table+"."+c.column+" "+stmt.ColumnText(0)] = value
				return nil
			}})
			if err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		return values
	}
}

func postgresRawValues(url string) rawValues {
	return func(t *testing.T) map[string][]byte {
		t.Helper()
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatalf("connect to read the rows: %v", err)
		}
		defer conn.Close(ctx)
		values := map[string][]byte{}
		for _, c := range sealedColumns {
			query := fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s IS NOT NULL", c.row, c.column, c.table, c.column)
			rows, err := conn.Query(ctx, query)
			if err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			for rows.Next() {
				var row string
				var value []byte
				if err := rows.Scan(&row, &value); err != nil {
					t.Fatalf("%s: %v", query, err)
				}
				values[c.table+"."+c.column+" "+row] = value
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		return values
	}
}

// countByKey counts the values under each key ID ("" for plaintext).
func countByKey(values map[string][]byte) map[string]int {
	counts := map[string]int{}
	for _, value := range values {
		id, _ := store.IsSealed(value)
		counts[id]++
	}
	return counts
}

// writeSecretsUnderK1 fills a store opened with k1 alone with values of every
// kind keys rotate covers, each distinct: runs' inputs and outputs, two step
// outputs a run, signal payloads, dead-letter inputs, steps archived by a
// from-step replay, schedules' inputs.
func writeSecretsUnderK1(t *testing.T, st store.Store, runs int) {
	t.Helper()
	ctx := context.Background()
	const workflow = "onboard"
	for i := range runs {
		input := fmt.Sprintf(`{"customer": {"email": "c%03d@example.com"}, "document": "contract %d: %s"}`, i, i, strings.Repeat("x", i%40))
		if _, _, err := st.RunEnqueue(ctx, &store.RunEnqueueParams{ID: fmt.Sprintf("R%04d", i), Workflow: workflow, Input: []byte(input)}); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := st.RunsClaim(ctx, &store.RunsClaimParams{Holder: "w", Workflows: []string{workflow}, Limit: runs, LeaseDuration: time.Hour})
	if err != nil || len(claimed) != runs {
		t.Fatalf("claim: %v, %d runs of %d", err, len(claimed), runs)
	}
	for i, c := range claimed {
		run := c.Run
		lease := store.Lease{RunID: run.ID, Epoch: run.Epoch}
		now := time.Now()
		for seq, name := range []string{"extract", "call_model"} {
			output := fmt.Sprintf(`{"step": %q, "run": %q, "response": "model says %d"}`, name, run.ID, i*10+seq)
			if err := st.StepCheckpoint(ctx, &store.StepCheckpointParams{Lease: lease, Holder: "w", Seq: seq + 1, Name: name, Attempt: 1,
				IdempotencyKey: fmt.Sprintf("%s/%d", run.ID, seq+1), Output: []byte(output), StartedAt: now, FinishedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		if i%3 == 0 {
			payload := fmt.Sprintf(`{"approved_by": "reviewer-%d@example.com"}`, i)
			if _, err := st.SignalSend(ctx, &store.SignalSendParams{RunID: run.ID, Name: "approve", Payload: []byte(payload), Actor: "ops"}); err != nil {
				t.Fatal(err)
			}
		}
		if i%5 != 0 {
			if err := st.RunComplete(ctx, &store.RunCompleteParams{Lease: lease, Holder: "w", Output: []byte(fmt.Sprintf(`{"account": %d}`, i))}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		failure := &klaxontype.RunFailure{Class: klaxontype.ClassPermanent, Reason: "bad input", Step: "verify", StepSeq: 3}
		if err := st.RunFail(ctx, &store.RunFailParams{Lease: lease, Holder: "w", Next: klaxontype.RunStatusDead, Failure: failure,
			DeadLetter: &store.DeadLetterParams{ID: "E" + run.ID, Channel: "review"}}); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			// A from-step replay archives the steps it discards.
			if _, err := st.DLQReplay(ctx, &store.DLQReplayParams{EntryID: "E" + run.ID, Mode: klaxontype.ReplayFromStep, Step: "extract", Actor: "ops"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 3 {
		if _, err := st.ScheduleSave(ctx, &store.ScheduleSaveParams{
			Name: fmt.Sprintf("nightly-%d", i), Workflow: workflow, Cron: "0 3 * * *", TimeZone: "UTC",
			Input:   json.RawMessage(fmt.Sprintf(`{"report": %d, "to": "finance@example.com"}`, i)),
			CatchUp: klaxontype.CatchUpOne, Source: "api", NextTick: time.Now().Add(time.Hour),
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// rotationChild runs `klaxon keys rotate` as a process of its own and
// SIGKILLs it after it reported batches committed.
func rotationChild(t *testing.T, db, ring string, killAfterBatches int, extraArgs ...string) {
	t.Helper()
	args := append([]string{"keys", "rotate", "--db", db, "--batch", "5", "--json"}, extraArgs...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runAsKlaxonEnv+"=1", "KLAXON_ENCRYPTION_KEYS="+ring)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := bufio.NewScanner(stdout)
	batches := 0
	for batches < killAfterBatches && lines.Scan() {
		// A progress line is printed after its batch committed.
		if strings.Contains(lines.Text(), `"last_run"`) {
			batches++
		}
		if strings.Contains(lines.Text(), `"done"`) {
			t.Fatalf("the rotation finished before the kill point: %s", lines.Text())
		}
	}
	if batches < killAfterBatches {
		t.Fatalf("the rotation exited after %d batches, before the kill point", batches)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	go func() {
		for lines.Scan() {
		}
	}()
	if err := cmd.Wait(); err == nil {
		t.Fatal("the rotation exited cleanly; want it killed")
	}
}

// testRotationSurvivesSIGKILL writes values of every kind under k1, adds k2,
// SIGKILLs `klaxon keys rotate` twice part-way (once between batches, once
// most likely inside one), then runs it to the end: every value reads back
// byte-identical under k2 alone, none is left under k1, no row was lost or
// added, and the audit log holds the one rotation that finished, with the
// counts it did.
func testRotationSurvivesSIGKILL(t *testing.T, db string, open func(ring *store.Keyring) (store.Store, error), raw rawValues) {
	k1, k2 := generateKey(t, "k1"), generateKey(t, "k2")
	ringOf := func(text string) *store.Keyring {
		ring, err := store.ParseKeyring(text)
		if err != nil {
			t.Fatal(err)
		}
		return ring
	}
	st, err := open(ringOf(k1))
	if err != nil {
		t.Fatal(err)
	}
	const runs = 150
	writeSecretsUnderK1(t, st, runs)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	before := raw(t)
	// Every run's input, 2 steps a run (live, or archived by the replays),
	// the completed runs' outputs, a signal every third run, an entry every
	// fifth, and the schedules.
	want := runs + 2*runs + runs*4/5 + runs/3 + runs/5 + 3
	if counts := countByKey(before); counts["k1"] != want || len(before) != want {
		t.Fatalf("before the rotation: %v of %d values; want %d, all under k1", counts, len(before), want)
	}
	tables := map[string]int{}
	for name := range before {
		tables[strings.Fields(name)[0]]++
	}
	for _, c := range sealedColumns {
		if c.table+"."+c.column != "runs.output" && tables[c.table+"."+c.column] == 0 {
			t.Fatalf("no value in %s.%s to rotate: %v", c.table, c.column, tables)
		}
	}
	plaintext := map[string]string{}
	old := ringOf(k1)
	for name, value := range before {
		opened, err := old.Open(value)
		if err != nil {
			t.Fatalf("%s does not open under k1: %v", name, err)
		}
		plaintext[name] = string(opened)
	}

	ring := k1 + "," + k2
	underK1 := func() int { return countByKey(raw(t))["k1"] }
	rotationChild(t, db, ring, 3, "--pause", "50ms")
	afterFirst := underK1()
	if afterFirst == 0 || afterFirst == len(before) {
		t.Fatalf("%d of %d values under k1 after the first kill; want the kill part-way", afterFirst, len(before))
	}
	// Run again, it passes over the first batches, re-sealing nothing there.
	rotationChild(t, db, ring, 6)
	left := underK1()
	if left == 0 || left >= afterFirst {
		t.Fatalf("%d values under k1 after the second kill, %d after the first; want fewer, and some left", left, afterFirst)
	}
	env := map[string]string{"KLAXON_DB": db, "KLAXON_ENCRYPTION_KEYS": ring}
	if code, stdout, _ := run(t, env, "keys", "check", "--json"); code != exitOK || strings.Contains(stdout, `"retired": true`) {
		t.Fatalf("keys check after the kills: exit %d, %s; want no key retired", code, stdout)
	}
	if records := auditRotations(t, env); len(records) != 0 {
		t.Fatalf("the audit log records %d rotations after two killed ones; want none (neither finished)", len(records))
	}

	code, stdout, stderr := run(t, env, "keys", "rotate", "--batch", "7", "--json")
	if code != exitOK {
		t.Fatalf("keys rotate after the kills: exit %d\n%s%s", code, stdout, stderr)
	}
	outputLines := strings.Split(strings.TrimSpace(stdout), "\n")
	var result struct {
		Done     bool     `json:"done"`
		Resealed int      `json:"resealed"`
		Runs     int      `json:"runs"`
		Retired  []string `json:"retired"`
	}
	if err := json.Unmarshal([]byte(outputLines[len(outputLines)-1]), &result); err != nil || !result.Done {
		t.Fatalf("the last line of keys rotate: %q, %v", outputLines[len(outputLines)-1], err)
	}
	if result.Resealed != left || result.Runs != runs || len(result.Retired) != 1 || result.Retired[0] != "k1" {
		t.Errorf("the rotation after the kills: %+v; want %d values re-sealed (those left under k1), %d runs, k1 retired", result, left, runs)
	}

	after := raw(t)
	if counts := countByKey(after); counts["k2"] != len(after) {
		t.Errorf("after the rotation: %v; want every value under k2", counts)
	}
	if len(after) != len(before) {
		t.Errorf("%d sealed values after the rotation, %d before; want the same rows", len(after), len(before))
	}
	newest := ringOf(k2)
	for name, want := range plaintext {
		value, ok := after[name]
		if !ok {
			t.Errorf("%s is gone after the rotation", name)
			continue
		}
		got, err := newest.Open(value)
		if err != nil {
			t.Errorf("%s does not open under k2 alone: %v", name, err)
		} else if string(got) != want {
			t.Errorf("%s reads %q after the rotation; want %q", name, got, want)
		}
	}

	records := auditRotations(t, env)
	if len(records) != 1 {
		t.Fatalf("the audit log records %d rotations; want the one that finished", len(records))
	}
	var params struct {
		Retired  []string `json:"retired"`
		Runs     int      `json:"runs"`
		Resealed int      `json:"resealed"`
	}
	if err := json.Unmarshal(records[0].Params, &params); err != nil {
		t.Fatal(err)
	}
	if records[0].Target != "k2" || params.Resealed != left || params.Runs != runs || len(params.Retired) != 1 || params.Retired[0] != "k1" {
		t.Errorf("the audit record: target %q, %+v; want k2, %d re-sealed of %d runs, k1 retired", records[0].Target, params, left, runs)
	}

	// k1 may leave the ring now: the store opens and reads with k2 alone.
	alone := map[string]string{"KLAXON_DB": db, "KLAXON_ENCRYPTION_KEYS": k2}
	code, stdout, stderr = run(t, alone, "runs", "list", "--json", "--limit", "1000")
	var listed []*klaxontype.Run
	if code != exitOK || json.Unmarshal([]byte(stdout), &listed) != nil || len(listed) != runs {
		t.Fatalf("runs list with k2 alone: exit %d, %d runs; want %d\n%s", code, len(listed), runs, stderr)
	}
	compact := func(text []byte) string {
		var out bytes.Buffer
		if err := json.Compact(&out, text); err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		return out.String()
	}
	for _, r := range listed {
		// The command prints the JSON indented.
		if got, want := compact(r.Input), compact([]byte(plaintext["runs.input "+r.ID])); got != want {
			t.Errorf("run %s lists input %s; want %s", r.ID, got, want)
		}
	}
}

func generateKey(t *testing.T, id string) string {
	t.Helper()
	secret, err := store.GenerateKeySecret()
	if err != nil {
		t.Fatal(err)
	}
	return id + ":" + secret
}

func auditRotations(t *testing.T, env map[string]string) []*klaxontype.AuditRecord {
	t.Helper()
	code, stdout, stderr := run(t, env, "audit", "--action", "keys.rotate", "--json")
	var records []*klaxontype.AuditRecord
	if code != exitOK || json.Unmarshal([]byte(stdout), &records) != nil {
		t.Fatalf("audit --action keys.rotate: exit %d, %s%s", code, stdout, stderr)
	}
	return records
}

func TestKeysRotateSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills klaxon keys rotate processes; skipped in -short mode")
	}
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "rotate.db")
		testRotationSurvivesSIGKILL(t, path, func(ring *store.Keyring) (store.Store, error) {
			return klaxonsqlite.Open(context.Background(), path, &klaxonsqlite.Options{Keys: ring})
		}, sqliteRawValues(path))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		url := postgresSchemaURL(t)
		testRotationSurvivesSIGKILL(t, url, func(ring *store.Keyring) (store.Store, error) {
			return postgres.Open(context.Background(), url, &postgres.Options{MaxConns: 4, Keys: ring})
		}, postgresRawValues(url))
	})
}

package storetest

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// OpenWithKeys opens the store of one database, the same file or schema on
// every call of one test, with a key ring (nil for none). The suite closes
// every store it opens.
type OpenWithKeys func(keys *store.Keyring) (store.Store, error)

// RunEncryption runs the conformance suite of encryption at rest against
// databases made by newDatabase; each call returns an opener of a new, empty
// database. rows reads a store's database behind its back: the suite checks
// that no payload is there in plaintext.
func RunEncryption(t *testing.T, newDatabase func(t *testing.T) OpenWithKeys, rows Rows) {
	t.Run("SealedAtRest", func(t *testing.T) { testSealedAtRest(t, newDatabase(t), rows) })
	t.Run("RefusedAtOpen", func(t *testing.T) { testKeysRefusedAtOpen(t, newDatabase(t)) })
	t.Run("Rotation", func(t *testing.T) { testKeysRotation(t, newDatabase(t), rows) })
}

// testKey is a key of the suite's rings: the secret is derived from the
// name and a variant, so that one ID can be given a wrong secret.
func testKey(id string, variant byte) store.Key {
	secret := bytes.Repeat([]byte{variant}, 32)
	copy(secret, id)
	return store.Key{ID: id, Secret: secret}
}

func testRing(t *testing.T, keys ...store.Key) *store.Keyring {
	t.Helper()
	ring, err := store.NewKeyring(keys)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return ring
}

// openKeyed opens a store that must open, closed when the test ends
// unless the test closes it first.
func openKeyed(t *testing.T, open OpenWithKeys, keys *store.Keyring) *fixture {
	t.Helper()
	s, err := open(keys)
	if err != nil {
		t.Fatalf("open with keys %v: %v", keys.IDs(), err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = s.Close()
		}
	})
	f := &fixture{t: t, ctx: t.Context(), store: s}
	return f
}

func (f *fixture) close() {
	f.t.Helper()
	if err := f.store.Close(); err != nil {
		f.t.Fatalf("Close: %v", err)
	}
}

// secretWorld writes a payload holding marker in every place encryption
// covers: a run's input and output, a step's output, a dead-letter entry's
// input, a signal's payload, a schedule's input, an archived step. It
// returns the IDs of the completed run and of the dead run.
func (f *fixture) secretWorld(marker string) (completed, dead string) {
	f.t.Helper()
	payload := func(what string) []byte { return []byte(fmt.Sprintf(`{"%s": "%s-%s"}`, what, marker, what)) }

	run := f.enqueue(&store.RunEnqueueParams{Input: payload("input")})
	held := f.claimRun(run, holderA, longLease).Run
	f.mustCheckpoint(held, holderA, 1, "call_model", string(payload("model_response")))
	if _, err := f.store.SignalSend(f.ctx, &store.SignalSendParams{RunID: run.ID, Name: "approve", Payload: payload("signal"), Actor: "ops"}); err != nil {
		f.t.Fatalf("SignalSend: %v", err)
	}
	if err := f.store.RunComplete(f.ctx, &store.RunCompleteParams{Lease: leaseOf(held), Holder: holderA, Output: payload("output")}); err != nil {
		f.t.Fatalf("RunComplete: %v", err)
	}

	deadRun, entryID := f.deadRun(death{Run: store.RunEnqueueParams{Input: payload("dead_input")}, Steps: []string{"extract", "classify"}})
	// A from-step replay archives the steps it discards.
	if _, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: entryID, Mode: klaxontype.ReplayFromStep, Step: "extract", Actor: "ops"}); err != nil {
		f.t.Fatalf("DLQReplay: %v", err)
	}
	if _, err := f.store.ScheduleSave(f.ctx, &store.ScheduleSaveParams{
		Name: "nightly", Workflow: testWorkflow, Cron: "0 3 * * *", TimeZone: "UTC", Input: payload("schedule"),
		CatchUp: klaxontype.CatchUpOne, Source: "api", NextTick: time.Now().Add(time.Hour),
	}); err != nil {
		f.t.Fatalf("ScheduleSave: %v", err)
	}
	return run.ID, deadRun.ID
}

// checkSecretWorld reads back through the store every payload secretWorld
// wrote, in plaintext.
func (f *fixture) checkSecretWorld(marker, completed, dead string) {
	f.t.Helper()
	want := func(what string, got []byte) {
		f.t.Helper()
		if !bytes.Contains(got, []byte(marker+"-"+what)) {
			f.t.Errorf("%s reads %q, want the plaintext with %s-%s", what, got, marker, what)
		}
	}
	run := f.get(completed)
	want("input", run.Input)
	want("output", run.Output)
	steps := f.steps(completed)
	if len(steps) != 1 {
		f.t.Fatalf("run %s has %d steps, want 1", completed, len(steps))
	}
	want("model_response", steps[0].Output)
	signals, err := f.store.SignalList(f.ctx, completed)
	if err != nil || len(signals) != 1 {
		f.t.Fatalf("SignalList: %v, %d signals; want 1", err, len(signals))
	}
	want("signal", signals[0].Payload)
	want("dead_input", f.get(dead).Input)
	entries := f.dlqList(&store.DLQListParams{RunID: dead})
	if len(entries) != 1 {
		f.t.Fatalf("dead run %s has %d entries, want 1", dead, len(entries))
	}
	want("dead_input", f.entry(entries[0].ID).Input)
	schedule := f.schedule("nightly", 0)
	want("schedule", schedule.Input)
}

// checkNoPlaintext fails when a row of the database holds marker, as text
// or as the hexadecimal a bytea column prints.
func checkNoPlaintext(t *testing.T, s store.Store, rows Rows, marker string) {
	t.Helper()
	if rows == nil {
		t.Log("no row reader: not checking the database's rows for plaintext")
		return
	}
	hexMarker := hex.EncodeToString([]byte(marker))
	found := 0
	for _, row := range rows(t, s) {
		if strings.Contains(row, marker) || strings.Contains(row, hexMarker) {
			found++
			if found <= 3 {
				t.Errorf("a row holds the plaintext: %.200s", row)
			}
		}
	}
	if found > 3 {
		t.Errorf("… and %d more rows", found-3)
	}
}

func testSealedAtRest(t *testing.T, open OpenWithKeys, rows Rows) {
	ring := testRing(t, testKey("k1", 1))
	f := openKeyed(t, open, ring)
	const marker = "jane.doe-7731"
	completed, dead := f.secretWorld(marker)
	f.checkSecretWorld(marker, completed, dead)
	checkNoPlaintext(t, f.store, rows, marker)

	// A store opened again with the same keys reads the same.
	f.close()
	again := openKeyed(t, open, testRing(t, testKey("k1", 1)))
	again.checkSecretWorld(marker, completed, dead)
}

func testKeysRefusedAtOpen(t *testing.T, open OpenWithKeys) {
	f := openKeyed(t, open, testRing(t, testKey("k1", 1)))
	f.enqueue(&store.RunEnqueueParams{Input: []byte(`{"secret": 1}`)})
	f.close()

	refused := func(name string, keys *store.Keyring, wantIn ...string) {
		t.Helper()
		s, err := open(keys)
		if err == nil {
			_ = s.Close()
			t.Fatalf("%s: the store opened; want it refused", name)
		}
		for _, want := range wantIn {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not say %q", name, err, want)
			}
		}
	}
	refused("no keys", nil, `"k1"`, "KLAXON_ENCRYPTION_KEYS")
	refused("a wrong secret", testRing(t, testKey("k1", 2)), `"k1"`, "wrong")
	refused("another key only", testRing(t, testKey("k2", 2)), `"k1"`, "lacks")
	// A refused open recorded nothing: the right key still opens, and the
	// key the refused open brought is not required.
	g := openKeyed(t, open, testRing(t, testKey("k1", 1)))
	if runs := g.list(&store.RunListParams{}); len(runs) != 1 || !strings.Contains(string(runs[0].Input), "secret") {
		t.Fatalf("after the refusals the store lists %d runs; want the one, readable", len(runs))
	}
	checks, err := g.store.KeysList(g.ctx)
	if err != nil || len(checks) != 1 || checks[0].ID != "k1" {
		t.Fatalf("KeysList: %v, %+v; want k1 alone", err, checks)
	}
}

func testKeysRotation(t *testing.T, open OpenWithKeys, rows Rows) {
	const marker = "rotate-me-5519"
	// Values written before the database had keys, then under k1.
	plain := openKeyed(t, open, nil)
	plainRun := plain.enqueue(&store.RunEnqueueParams{Input: []byte(`{"old": "` + marker + `-plain"}`), AvailableAt: time.Now().Add(time.Hour)})
	if _, err := plain.store.KeysRotateBatch(plain.ctx, &store.KeysRotateBatchParams{}); err == nil {
		t.Error("KeysRotateBatch without keys succeeded; want it refused")
	}
	plain.close()
	first := openKeyed(t, open, testRing(t, testKey("k1", 1)))
	completed, dead := first.secretWorld(marker)
	first.close()
	// A process that opened the database before k2 was added keeps writing
	// under k1 while the rotation runs.
	lagging := openKeyed(t, open, testRing(t, testKey("k1", 1)))

	// A rotation stopped after its first batch (a crash) retires nothing;
	// run again from the start, it finishes the job.
	stopped := openKeyed(t, open, testRing(t, testKey("k1", 1), testKey("k2", 1)))
	if batch, err := stopped.store.KeysRotateBatch(stopped.ctx, &store.KeysRotateBatchParams{Limit: 1}); err != nil || batch.Done || batch.Resealed == 0 {
		t.Fatalf("the first batch of 1 run: %+v, %v; want values re-sealed and runs left", batch, err)
	}
	stopped.close()

	f := openKeyed(t, open, testRing(t, testKey("k1", 1), testKey("k2", 1)))
	if checks, err := f.store.KeysList(f.ctx); err != nil || len(checks) != 2 || checks[0].Retired || checks[1].Retired {
		t.Fatalf("KeysList after a stopped rotation: %+v, %v; want k1 and k2, neither retired", checks, err)
	}
	total := store.KeysRotateBatch{}
	after := ""
	for batches := 0; ; batches++ {
		if batches > 20 {
			t.Fatal("the rotation did not finish in 20 batches of 2 runs")
		}
		batch, err := f.store.KeysRotateBatch(f.ctx, &store.KeysRotateBatchParams{After: after, Limit: 2})
		if err != nil {
			t.Fatalf("KeysRotateBatch after %q: %v", after, err)
		}
		total.Runs += batch.Runs
		total.Resealed += batch.Resealed
		total.Missed += batch.Missed
		after = batch.Last
		if batch.Done {
			break
		}
	}
	// 3 runs: the one written without keys, the completed one, and the
	// dead one (a from-step replay reopens the same run). Their values: 3
	// inputs, 1 output, 1 step, 2 archived steps, 1 entry, 1 signal, and
	// the schedule's input.
	if total.Runs != 3 || total.Missed != 0 || total.Resealed < 7 {
		t.Errorf("the rotation covered %d runs, re-sealed %d values, missed %d; want 3 runs, at least 7 values (the rest went in the stopped batch), none missed",
			total.Runs, total.Resealed, total.Missed)
	}
	// A second rotation finds nothing left to do.
	again, err := f.store.KeysRotateBatch(f.ctx, &store.KeysRotateBatchParams{})
	if err != nil || again.Resealed != 0 || !again.Done {
		t.Errorf("a second rotation: %+v, %v; want nothing re-sealed", again, err)
	}
	// The lagging process writes under k1 behind the rotation: the keys are
	// not retired while a value needs k1, and nothing is recorded.
	lagging.enqueue(&store.RunEnqueueParams{Input: []byte(`{"late": "` + marker + `-late"}`), AvailableAt: time.Now().Add(time.Hour)})
	lagging.close()
	if retired, err := f.store.KeysRetire(f.ctx, &store.KeysRetireParams{Actor: "ops", Runs: total.Runs, Resealed: total.Resealed}); err == nil ||
		!strings.Contains(err.Error(), "1 stored values are still encrypted with an older key") {
		t.Fatalf("KeysRetire with a value under k1: %v, %v; want it refused, saying so", retired, err)
	}
	if checks, err := f.store.KeysList(f.ctx); err != nil || checks[0].Retired || checks[1].Retired {
		t.Fatalf("KeysList after a refused retirement: %+v, %v; want neither key retired", checks, err)
	}
	if records := f.audit(&store.AuditListParams{Action: klaxontype.AuditKeysRotate}); len(records) != 0 {
		t.Fatalf("a refused retirement recorded %+v", records)
	}
	// Rotated again, the late value is re-sealed and the keys retire.
	if late, err := f.store.KeysRotateBatch(f.ctx, &store.KeysRotateBatchParams{}); err != nil || late.Resealed != 1 || !late.Done {
		t.Fatalf("a rotation after the late write: %+v, %v; want its one value re-sealed", late, err)
	}
	retired, err := f.store.KeysRetire(f.ctx, &store.KeysRetireParams{Actor: "ops", Runs: total.Runs, Resealed: total.Resealed})
	if err != nil || len(retired) != 1 || retired[0] != "k1" {
		t.Fatalf("KeysRetire: %v, %v; want k1 retired", retired, err)
	}
	records := f.audit(&store.AuditListParams{Action: klaxontype.AuditKeysRotate})
	if len(records) != 1 || records[0].Target != "k2" || records[0].Actor != "ops" {
		t.Fatalf("audit records of keys.rotate: %+v; want one by ops, target k2", records)
	}
	checkNoPlaintext(t, f.store, rows, marker)
	f.close()

	// k1 dropped: everything reads under k2.
	g := openKeyed(t, open, testRing(t, testKey("k2", 1)))
	g.checkSecretWorld(marker, completed, dead)
	if got := g.get(plainRun.ID).Input; !bytes.Contains(got, []byte(marker+"-plain")) {
		t.Errorf("the run written without keys reads %q after the rotation", got)
	}
	g.close()
	// k2 is needed: a ring of k1 alone is refused.
	if s, err := open(testRing(t, testKey("k1", 1))); err == nil {
		_ = s.Close()
		t.Fatal("a store of k2's values opened with k1 alone")
	} else if !strings.Contains(err.Error(), `"k2"`) {
		t.Errorf("the refusal %q does not name k2", err)
	}
}

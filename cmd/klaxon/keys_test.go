package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// TestKeysThroughTheCommand encrypts a demo's database, refuses it without
// its keys or with bad ones (changing nothing), rotates it to a new key and
// reads it with the new key alone.
func TestKeysThroughTheCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	generate := func(id string) string {
		t.Helper()
		code, stdout, stderr := run(t, nil, "keys", "generate", id)
		if code != exitOK {
			t.Fatalf("keys generate %s: exit %d: %s", id, code, stderr)
		}
		return strings.TrimSpace(stdout)
	}
	k1, k2 := generate("k1"), generate("k2")
	keysFile := filepath.Join(dir, "keys")
	if err := os.WriteFile(keysFile, []byte("# the first key\n"+k1+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withFile := map[string]string{"KLAXON_DB": db, "KLAXON_ENCRYPTION_KEY_FILE": keysFile}
	if code, _, stderr := run(t, withFile, "demo", "--no-server", "--runs", "6", "--exit-when-done", "--seed", "3"); code != exitOK {
		t.Fatalf("demo with keys: exit %d: %s", code, stderr)
	}
	show := func(env map[string]string) []*klaxontype.Run {
		t.Helper()
		code, stdout, stderr := run(t, env, "runs", "list", "--json")
		var runs []*klaxontype.Run
		if code != exitOK || json.Unmarshal([]byte(stdout), &runs) != nil || len(runs) != 6 {
			t.Fatalf("runs list: exit %d, %s%s", code, stdout, stderr)
		}
		return runs
	}
	before := show(withFile)
	if !json.Valid(before[0].Input) || len(before[0].Input) < 2 {
		t.Fatalf("a run's input reads %q through the command, want its JSON", before[0].Input)
	}

	digest := fileDigest(t, db)
	for name, c := range map[string]struct {
		env  map[string]string
		want string
	}{
		"no keys":       {map[string]string{"KLAXON_DB": db}, `encrypted with key "k1" and no encryption keys were given`},
		"wrong key":     {map[string]string{"KLAXON_DB": db, "KLAXON_ENCRYPTION_KEYS": generate("k1")}, `encryption key "k1" is wrong`},
		"malformed env": {map[string]string{"KLAXON_DB": db, "KLAXON_ENCRYPTION_KEYS": "k1=" + strings.TrimPrefix(k1, "k1:")}, "KLAXON_ENCRYPTION_KEYS: key 1: expected ID:BASE64"},
		"short secret":  {map[string]string{"KLAXON_DB": db, "KLAXON_ENCRYPTION_KEYS": "k1:AAAA"}, "is 3 bytes; AES-256 needs 32"},
		"both sources":  {map[string]string{"KLAXON_DB": db, "KLAXON_ENCRYPTION_KEYS": k1, "KLAXON_ENCRYPTION_KEY_FILE": keysFile}, "give one"},
	} {
		for _, args := range [][]string{{"runs", "list"}, {"server", "--addr", "127.0.0.1:0"}} {
			code, _, stderr := run(t, c.env, args...)
			if code == exitOK || !strings.Contains(stderr, c.want) {
				t.Errorf("%s, %v: exit %d, %q; want a refusal saying %q", name, args, code, stderr, c.want)
			}
			if strings.Contains(stderr, strings.TrimPrefix(k1, "k1:")) {
				t.Errorf("%s: the refusal quotes the secret", name)
			}
		}
	}
	if fileDigest(t, db) != digest {
		t.Error("a refused start changed the database file")
	}

	ring := map[string]string{"KLAXON_DB": db, "KLAXON_ENCRYPTION_KEYS": k1 + "," + k2}
	code, stdout, stderr := run(t, ring, "keys", "rotate", "--batch", "2", "--json")
	if code != exitOK || !strings.Contains(stdout, `"done":true`) || !strings.Contains(stdout, `"retired":["k1"]`) {
		t.Fatalf("keys rotate: exit %d\n%s%s", code, stdout, stderr)
	}
	if strings.Count(stdout, `"last_run"`) < 3 {
		t.Errorf("keys rotate printed no progress per batch of 2 runs:\n%s", stdout)
	}
	after := show(map[string]string{"KLAXON_DB": db, "KLAXON_ENCRYPTION_KEYS": k2})
	for i := range before {
		if string(after[i].Input) != string(before[i].Input) || string(after[i].Output) != string(before[i].Output) {
			t.Errorf("run %s reads differently after the rotation", before[i].ID)
		}
	}
	code, stdout, _ = run(t, map[string]string{"KLAXON_DB": db, "KLAXON_ENCRYPTION_KEYS": k2}, "audit", "--action", "keys.rotate", "--json")
	if code != exitOK || !strings.Contains(stdout, `"k2"`) {
		t.Errorf("the audit log has no keys.rotate record: %s", stdout)
	}
}

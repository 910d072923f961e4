package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// klaxon schedules manages a schedule's life on the database and through a
// server alike, and refuses a bad expression, zone or workflow naming it,
// saving nothing.
func TestSchedulesCommands(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "schedules.db")
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.WorkflowRegister(context.Background(), &store.WorkflowRegisterParams{Name: "recheck", Version: 1})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	for i, env := range []map[string]string{nil, serverEnv(serveDatabase(t, db))} {
		cli := func(args ...string) (int, string, string) {
			if env == nil {
				args = append(args, "--db", db)
			}
			return run(t, env, args...)
		}
		name := []string{"nightly-db", "nightly-server"}[i]
		code, stdout, stderr := cli("schedules", "create", name, "--workflow", "recheck", "--cron", "0 3 * * *",
			"--tz", "Europe/Paris", "--input", `{"days":1}`, "--json")
		var created klaxontype.Schedule
		if code != exitOK || json.Unmarshal([]byte(stdout), &created) != nil {
			t.Fatalf("create: exit %d %q %q", code, stdout, stderr)
		}
		var input bytes.Buffer
		_ = json.Compact(&input, created.Input)
		if created.Name != name || created.TimeZone != "Europe/Paris" || created.CatchUp != klaxontype.CatchUpOne || input.String() != `{"days":1}` {
			t.Errorf("created %+v", created)
		}
		for _, bad := range []struct {
			args []string
			says string
		}{
			{[]string{"--cron", "0 25 * * *"}, "0 25 * * *"},
			{[]string{"--cron", "@daily", "--tz", "Atlantis/Capital"}, "Atlantis/Capital"},
			{[]string{"--cron", "@daily", "--catch-up", "sometimes"}, "sometimes"},
		} {
			args := append([]string{"schedules", "create", "bad", "--workflow", "recheck"}, bad.args...)
			if code, _, stderr := cli(args...); code == exitOK || !strings.Contains(stderr, bad.says) {
				t.Errorf("%v: exit %d %q; want a refusal naming %q", bad.args, code, stderr, bad.says)
			}
		}
		if code, _, stderr := cli("schedules", "create", "bad", "--workflow", "gone", "--cron", "@daily"); code == exitOK || !strings.Contains(stderr, "gone") {
			t.Errorf("an unknown workflow: exit %d %q", code, stderr)
		}
		code, stdout, stderr = cli("schedules", "list")
		if code != exitOK || !strings.Contains(stdout, name) || strings.Contains(stdout, "bad") || !strings.Contains(stdout, "NEXT TICK") {
			t.Fatalf("list: exit %d %q %q", code, stdout, stderr)
		}
		if code, stdout, _ := cli("schedules", "pause", name); code != exitOK || !strings.Contains(stdout, "paused") {
			t.Errorf("pause: exit %d %q", code, stdout)
		}
		if code, stdout, _ := cli("schedules", "resume", name); code != exitOK || !strings.Contains(stdout, "active") {
			t.Errorf("resume: exit %d %q", code, stdout)
		}
		if code, stdout, _ := cli("schedules", "show", name); code != exitOK || !strings.Contains(stdout, "no decisions yet") || !strings.Contains(stdout, "Europe/Paris") {
			t.Errorf("show: exit %d %q", code, stdout)
		}
		if code, _, _ := cli("schedules", "delete", name); code != exitOK {
			t.Errorf("delete: exit %d", code)
		}
		if code, _, stderr := cli("schedules", "show", name); code == exitOK || !strings.Contains(stderr, name) {
			t.Errorf("show after delete: exit %d %q", code, stderr)
		}
	}
}

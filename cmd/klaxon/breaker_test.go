package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

func TestBreakerListAndReset(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "breaker.db")
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.BreakerTrip(context.Background(), &store.BreakerTripParams{
		Workflow: "summarize", Reason: "retry storm: 9 of the last 10 attempts failed", Until: time.Now().Add(time.Hour), Actor: "worker-1",
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	code, stdout, _ := run(t, nil, "breaker", "list", "--db", db, "--json")
	var breakers []*klaxontype.Breaker
	if code != exitOK || json.Unmarshal([]byte(stdout), &breakers) != nil || len(breakers) != 1 || !breakers[0].Open {
		t.Fatalf("breaker list: exit %d %q", code, stdout)
	}
	code, stdout, _ = run(t, nil, "breaker", "list", "--db", db)
	if code != exitOK || !strings.Contains(stdout, "OPEN") || !strings.Contains(stdout, "retry storm") {
		t.Fatalf("breaker list table:\n%s", stdout)
	}
	code, stdout, stderr := run(t, nil, "breaker", "reset", "summarize", "--db", db, "--actor", "oncall")
	if code != exitOK || !strings.Contains(stdout, "reset") {
		t.Fatalf("reset: exit %d %q %q", code, stdout, stderr)
	}
	code, _, stderr = run(t, nil, "breaker", "reset", "summarize", "--db", db)
	if code != exitError || !strings.Contains(stderr, `workflow "summarize" has no open breaker`) {
		t.Fatalf("second reset: exit %d %q", code, stderr)
	}
	code, _, stderr = run(t, nil, "breaker", "rest", "--db", db)
	if code != exitUsage || !strings.Contains(stderr, `unknown command "rest"`) {
		t.Fatalf("typo: exit %d %q", code, stderr)
	}
	code, stdout, _ = run(t, nil, "breaker", "list", "--db", db, "--json")
	if json.Unmarshal([]byte(stdout), &breakers) != nil || breakers[0].Open || breakers[0].ResetBy != "oncall" {
		t.Fatalf("after reset: %q", stdout)
	}
}

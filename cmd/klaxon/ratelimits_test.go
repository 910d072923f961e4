package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// klaxon ratelimits declares and lists limits on the database and through a
// server alike, and refuses a bad limit naming the problem, saving nothing.
func TestRateLimitsCommands(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "ratelimits.db")
	if code, _, stderr := run(t, nil, "migrate", "--db", db); code != 0 {
		t.Fatalf("migrate: %d %s", code, stderr)
	}
	for i, env := range []map[string]string{nil, serverEnv(serveDatabase(t, db))} {
		cli := func(args ...string) (int, string, string) {
			if env == nil {
				args = append(args, "--db", db)
			}
			return run(t, env, args...)
		}
		key := []string{"openai/gpt-4o-mini", "anthropic/claude"}[i]
		for _, bad := range [][]string{
			{"ratelimits", "set", key, "--requests", "0"},
			{"ratelimits", "set", key, "--requests", "-3"},
			{"ratelimits", "set", key, "--requests", "5", "--per", "0s"},
			{"ratelimits", "set", key, "--requests", "5", "--tokens", "-1"},
			{"ratelimits", "set", "", "--requests", "5"},
		} {
			if code, _, stderr := cli(bad...); code == 0 || !(strings.Contains(stderr, "rate limit") || strings.Contains(stderr, "key")) {
				t.Errorf("%v: exit %d, %q; want a refusal naming the problem", bad, code, stderr)
			}
		}
		code, stdout, stderr := cli("ratelimits", "set", key, "--requests", "500", "--tokens", "200000", "--per", "1m")
		if code != 0 || !strings.Contains(stdout, "500 requests and 200000 tokens per 1m0s") {
			t.Fatalf("set: %d %q %q", code, stdout, stderr)
		}
		code, stdout, stderr = cli("ratelimits", "list", "--json")
		var limits []*klaxontype.RateLimit
		if code != 0 || json.Unmarshal([]byte(stdout), &limits) != nil {
			t.Fatalf("list --json: %d %q %q", code, stdout, stderr)
		}
		if len(limits) != i+1 || limits[0].State == nil || limits[0].State.RequestsAvailable != 500 {
			t.Errorf("listed %s; want %d limits, each with 500 requests available", stdout, i+1)
		}
		if code, stdout, _ := cli("ratelimits", "list"); code != 0 || !strings.Contains(stdout, key) {
			t.Errorf("list: %d %q", code, stdout)
		}
	}
}

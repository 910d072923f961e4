package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/internal/demo"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// --llm-base-url runs the pipeline against another OpenAI-compatible server,
// here a fake one started by the test, with the key from OPENAI_API_KEY.
func TestDemoAgainstAnotherModelServer(t *testing.T) {
	t.Parallel()
	server, err := demo.StartFakeLLM(demo.FailureRates{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	db := filepath.Join(t.TempDir(), "demo.db")
	code, stdout, stderr := run(t, map[string]string{"OPENAI_API_KEY": "sk-test"}, "demo", "--db", db, "--runs", "3",
		"--exit-when-done", "--json", "--panic-rate", "0", "--llm-base-url", server.BaseURL(), "--model", demo.FakeModelName)
	if code != exitOK {
		t.Fatalf("demo exited %d: %s", code, stderr)
	}
	var summary demo.Summary
	if err := json.Unmarshal([]byte(stdout), &summary); err != nil {
		t.Fatalf("demo --json printed %q: %v", stdout, err)
	}
	if summary.Runs[klaxontype.RunStatusCompleted] != 3 || summary.Endpoint != server.BaseURL() || summary.Model != demo.FakeModelName {
		t.Fatalf("summary = %+v", summary)
	}
	if server.Requests() != int64(summary.Spend.ModelCalls) || summary.Spend.ModelCalls != 6 || summary.Spend.Cost.Unknown {
		t.Fatalf("%d requests for spend %+v; want 6 priced calls, all accounted", server.Requests(), summary.Spend)
	}
}

func TestDemoRefusesAnIncompleteModelServer(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "demo.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--llm-base-url", "http://127.0.0.1:9/v1"}, "--llm-base-url needs --model"},
		{[]string{"--model", "gpt-4o"}, "--model needs --llm-base-url"},
		{[]string{"--llm-base-url", "localhost:11434", "--model", "llama3"}, "is not an http(s) URL"},
	} {
		code, _, stderr := run(t, nil, append([]string{"demo", "--db", db, "--exit-when-done"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("klaxon demo %s: exit %d, %q; want a usage error mentioning %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

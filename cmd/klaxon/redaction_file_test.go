package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// TestRedactionCheck: a good file is printed workflow by workflow; a bad
// one is an error naming the file, the workflow, the line and the problem,
// with exit code 1.
func TestRedactionCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := writeFile(t, dir, "redaction.yml", `
workflows:
  "*":
    patterns: ['sk-[A-Za-z0-9]{20,}']
  onboard:
    paths:
      - $.customer.email
      - $.documents[*].text
`)
	code, stdout, stderr := run(t, nil, "redaction", "check", good)
	for _, want := range []string{
		good + ": 2 entries",
		`every workflow ("*"): patterns sk-[A-Za-z0-9]{20,}`,
		"workflow onboard: paths $.customer.email, $.documents[*].text",
	} {
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("redaction check: exit %d, output lacks %q:\n%s%s", code, want, stdout, stderr)
		}
	}

	for name, c := range map[string]struct{ file, want string }{
		"a bad path": {"workflows:\n  onboard:\n    paths:\n      - $.customer.email\n      - customer.phone\n",
			`workflow "onboard" (line 2): path 2 (line 5): "customer.phone" is not a JSON path: write it as $.field.subfield`},
		"a bad pattern": {"workflows:\n  onboard:\n    patterns: ['sk-([']\n",
			`workflow "onboard" (line 2): pattern 1 (line 3): pattern "sk-([" is not a regular expression (Go RE2 syntax)`},
		"a pattern matching nothing": {"workflows:\n  onboard:\n    patterns: ['x*']\n",
			`pattern "x*" matches the empty string`},
		"a misspelt field": {"workflows:\n  onboard:\n    path: [$.customer.email]\n",
			`workflow "onboard" (line 2): line 3: unknown field "path": a workflow's entry has paths, patterns`},
		"nothing to mask": {"workflows:\n  onboard: {}\n",
			`workflow "onboard" (line 2): give paths ($.customer.email) or patterns`},
		"a workflow twice": {"workflows:\n  onboard: {paths: [$.a]}\n  onboard: {paths: [$.b]}\n",
			`workflow "onboard" (line 3) is listed twice`},
		"an unquoted star": {"workflows:\n  *:\n    paths: [$.a]\n",
			`line 2: did not find expected alphabetic or numeric character: quote "*"`},
		"not YAML":      {"workflows: [\n", "line 1: did not find expected node content"},
		"an empty file": {"", "the file is empty"},
		"no workflows":  {"workflows:\n", "no workflows"},
		"a list":        {"workflows: [onboard]\n", "line 1: workflows is a mapping of workflow names"},
		"a top field":   {"workflow:\n  onboard: {paths: [$.a]}\n", `line 1: unknown field "workflow": the file has workflows`},
	} {
		path := writeFile(t, dir, strings.ReplaceAll(name, " ", "-")+".yml", c.file)
		code, _, stderr := run(t, nil, "redaction", "check", path)
		if code != exitError || !strings.Contains(stderr, "redaction file "+path+": ") || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, %q; want exit %d naming the file and saying %q", name, code, stderr, exitError, c.want)
		}
	}
	if code, _, stderr := run(t, nil, "redaction", "check", filepath.Join(dir, "missing.yml")); code != exitError || !strings.Contains(stderr, "missing.yml") {
		t.Errorf("a missing file: exit %d, %q", code, stderr)
	}
	if code, _, _ := run(t, nil, "redaction", "chek", good); code != exitUsage {
		t.Errorf("redaction chek: exit %d; want usage", code)
	}
}

// TestServerRefusesBadRedaction: a redaction file with a mistake stops the
// server with the error redaction check gives, before the database is
// created.
func TestServerRefusesBadRedaction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "never.db")
	file := writeFile(t, dir, "redaction.yml", "workflows:\n  onboard:\n    paths: [$customer]\n")
	code, _, stderr := run(t, nil, "server", "--db", db, "--redaction", file)
	if code != exitError || !strings.Contains(stderr, `redaction file `+file+`: workflow "onboard" (line 2): path 1 (line 3): "$customer" is not a JSON path`) {
		t.Errorf("server with a bad redaction file: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the database was created: %v", err)
	}
}

// TestServerRedactionFile: the server's redaction file masks a workflow's
// values for read tokens although its registration declares no rule, adds
// to a registration's rule, and stays in force when a worker registers the
// workflow again without rules; admin tokens read the values intact. A
// registration that drops a rule of the previous one is in the audit log.
func TestServerRedactionFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "server.db")
	const (
		readSecret   = "reader-secret-0123456789abcdef"
		adminSecret  = "admin-secret-0123456789abcdef"
		workerSecret = "worker-secret-0123456789abcdef"
	)
	tokens := writeFile(t, dir, "tokens", "reader read "+readSecret+"\nboss admin "+adminSecret+"\npy worker "+workerSecret+"\n")
	if err := os.Chmod(tokens, 0o600); err != nil {
		t.Fatal(err)
	}
	rules := writeFile(t, dir, "redaction.yml", `
workflows:
  onboard:
    paths: [$.customer.email]
  "*":
    patterns: ['sk-[A-Za-z0-9]{20,}']
`)
	url, stop := startServer(t, nil, "--db", db, "--addr", "127.0.0.1:0", "--tokens", tokens, "--redaction", rules)
	defer stop()

	call := func(method, path, secret string, body any, into any) {
		t.Helper()
		var reader io.Reader
		if body != nil {
			data, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			reader = bytes.NewReader(data)
		}
		request, err := http.NewRequest(method, url+path, reader)
		if err != nil {
			t.Fatal(err)
		}
		request.Header.Set("Authorization", "Bearer "+secret)
		request.Header.Set("Content-Type", "application/json")
		response, err := http.DefaultClient.Do(request)
		if err != nil {
			t.Fatal(err)
		}
		defer response.Body.Close()
		data, _ := io.ReadAll(response.Body)
		if response.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, response.StatusCode, data)
		}
		if into != nil {
			if err := json.Unmarshal(data, into); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, data)
			}
		}
	}
	register := func(workflow map[string]any) {
		t.Helper()
		call(http.MethodPost, klaxonhttp.APIPrefix+"/worker/register", workerSecret, map[string]any{
			"worker": map[string]any{"id": "py-worker-1", "language": "python"}, "workflows": []any{workflow},
		}, nil)
	}
	type customerInput struct {
		Customer struct {
			Email string `json:"email"`
			Phone string `json:"phone"`
		} `json:"customer"`
		Note string `json:"note"`
	}
	read := func(runID, secret string) customerInput {
		t.Helper()
		var detail klaxonhttp.RunDetail
		call(http.MethodGet, klaxonhttp.APIPrefix+"/runs/"+runID, secret, nil, &detail)
		var input customerInput
		if err := json.Unmarshal(detail.Run.Input, &input); err != nil {
			t.Fatalf("run input %s: %v", detail.Run.Input, err)
		}
		return input
	}

	// A Python worker registers the workflow with a rule of its own.
	register(map[string]any{"name": "onboard", "redact": []string{"$.customer.phone"}})
	var enqueued klaxonhttp.EnqueueResponse
	call(http.MethodPost, klaxonhttp.APIPrefix+"/runs", adminSecret, map[string]any{"workflow": "onboard", "input": map[string]any{
		"customer": map[string]any{"email": "jane@example.com", "phone": "555-0100"},
		"note":     "called with sk-abcdefghijklmnopqrstuvwx",
	}}, &enqueued)
	runID := enqueued.Run.ID

	masked := read(runID, readSecret)
	if masked.Customer.Email != "[redacted]" || masked.Customer.Phone != "[redacted]" || masked.Note != "called with [redacted]" {
		t.Errorf("a read token sees %+v; want the email (server file), the phone (registration) and the key (server file, every workflow) masked", masked)
	}
	if intact := read(runID, adminSecret); intact.Customer.Email != "jane@example.com" || intact.Customer.Phone != "555-0100" || !strings.Contains(intact.Note, "sk-abcdef") {
		t.Errorf("an admin token sees %+v; want every value intact", intact)
	}

	// Another deploy registers it without rules: the server file's stay in
	// force, the registration's is dropped, loudly.
	register(map[string]any{"name": "onboard"})
	masked = read(runID, readSecret)
	if masked.Customer.Email != "[redacted]" || masked.Note != "called with [redacted]" {
		t.Errorf("after a registration without rules a read token sees %+v; want the server file's values still masked", masked)
	}
	if masked.Customer.Phone != "555-0100" {
		t.Errorf("after a registration without rules the phone reads %q; want it unmasked, as the registration says", masked.Customer.Phone)
	}
	var audit klaxonhttp.AuditPage
	call(http.MethodGet, klaxonhttp.APIPrefix+"/audit?action=redaction.drop", adminSecret, nil, &audit)
	if len(audit.Records) != 1 {
		t.Fatalf("the audit log has %d redaction.drop records; want the one registration that dropped a rule", len(audit.Records))
	}
	record := audit.Records[0]
	var params struct {
		Paths []string `json:"paths"`
	}
	if err := json.Unmarshal(record.Params, &params); err != nil {
		t.Fatal(err)
	}
	if record.Action != klaxontype.AuditRedactionDrop || record.Target != "onboard" || record.Actor != "py-worker-1" ||
		len(params.Paths) != 1 || params.Paths[0] != "$.customer.phone" {
		t.Errorf("the redaction.drop record: %+v, %s; want actor py-worker-1, target onboard, paths [$.customer.phone]", record, record.Params)
	}
}

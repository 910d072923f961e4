package redact_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/redact"
)

func TestRuleMasksPathsAndPatterns(t *testing.T) {
	t.Parallel()
	rule, err := redact.NewRule([]string{"$.customer.email", "$.documents[*].text"}, []string{`sk-[A-Za-z0-9]{20,}`})
	if err != nil {
		t.Fatal(err)
	}
	input := `{"customer":{"email":"ada@example.com","id":12345678901234567890},` +
		`"documents":[{"text":"secret one","n":1},{"text":"secret two"}],` +
		`"note":"key sk-abcdefghijklmnopqrstuvwx here"}`
	got := string(rule.JSON(json.RawMessage(input)))
	for _, hidden := range []string{"ada@example.com", "secret one", "secret two", "sk-abcdefghijklmnopqrstuvwx"} {
		if strings.Contains(got, hidden) {
			t.Errorf("%s still shows %q", got, hidden)
		}
	}
	for _, kept := range []string{`"id":12345678901234567890`, `"note":"key [redacted] here"`, `"email":"[redacted]"`, `"n":1`} {
		if !strings.Contains(got, kept) {
			t.Errorf("%s lacks %q", got, kept)
		}
	}
	if path, ok := redact.FindMarker(json.RawMessage(got)); !ok || path == "" {
		t.Errorf("FindMarker(%s) = %q, %v; want a path", got, path, ok)
	}
	untouched := `{"other": 1.50}`
	if got := string(rule.JSON(json.RawMessage(untouched))); got != untouched {
		t.Errorf("a document with nothing to mask came back as %s", got)
	}
	if got := string(rule.JSON(json.RawMessage(`not json`))); got != `"[redacted]"` {
		t.Errorf("a document that is not JSON came back as %s; want it withheld", got)
	}
	if got := rule.Text("failed with sk-abcdefghijklmnopqrstuvwx"); got != "failed with [redacted]" {
		t.Errorf("Text = %q", got)
	}
}

func TestNewRuleNamesTheBadPathOrPattern(t *testing.T) {
	t.Parallel()
	for _, bad := range []struct {
		paths, patterns []string
		want            string
	}{
		{[]string{"$.ok", "customer.email"}, nil, `"customer.email" is not a JSON path`},
		{[]string{"$.a..b"}, nil, `"$.a..b" has an empty segment`},
		{[]string{"$.items[0].card"}, nil, `"$.items[0].card": only [*]`},
		{nil, []string{"sk-[A-Z"}, `pattern "sk-[A-Z" is not a regular expression`},
		{nil, []string{"a*"}, `pattern "a*" matches the empty string`},
	} {
		if _, err := redact.NewRule(bad.paths, bad.patterns); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("NewRule(%q, %q) = %v; want an error with %q", bad.paths, bad.patterns, err, bad.want)
		}
	}
	var none *redact.Rule
	if !none.Empty() || none.Text("x") != "x" || string(none.JSON(json.RawMessage(`{"a":1}`))) != `{"a":1}` {
		t.Error("a nil rule masked something")
	}
}

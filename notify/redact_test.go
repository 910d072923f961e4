package notify_test

import (
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/notify"
)

// TestTargetsOmitOrRedactPayloads: per target, a dead-letter entry's input
// is sent whole, withheld, or with the values of JSON paths replaced; the
// channel's other targets are not affected.
func TestTargetsOmitOrRedactPayloads(t *testing.T) {
	t.Parallel()
	config, err := notify.Parse([]byte(`
channels:
  review:
    - name: full
      type: webhook
      url: https://a.example.com
      secret: s
    - name: none
      type: webhook
      url: https://b.example.com
      secret: s
      omit_payload: true
    - name: masked
      type: template
      url: https://c.example.com
      template: '{"input": {{json .DeadLetter}}}'
      redact: [$.document_id, $.nothing.here]
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ has, hasNot string }{
		"full":   {`"input":{"document_id":"42"}`, "redacted"},
		"none":   {`"input":null`, `"input":{`},
		"masked": {`"input":{"document_id":"[redacted]"}`, `"input":{"document_id":"42"}`},
	}
	targets := config.Targets("review")
	if len(targets) != 3 {
		t.Fatalf("%d targets, want 3", len(targets))
	}
	// Twice over, in the file's order: a target's redaction must not leak
	// into the sample the next one reads.
	for range 2 {
		for _, target := range targets {
			body, err := config.Preview(target)
			if err != nil {
				t.Fatal(err)
			}
			w := want[target.Name]
			if !strings.Contains(string(body), w.has) || strings.Contains(string(body), w.hasNot) {
				t.Errorf("target %s got %s; want %s and not %s", target.Name, body, w.has, w.hasNot)
			}
		}
	}
}

func TestRedactRefusesBadPaths(t *testing.T) {
	t.Parallel()
	for file, want := range map[string]string{
		"channels:\n  ops:\n    - type: webhook\n      url: https://x.example.com\n      secret: s\n      redact: [customer.email]\n": `field "redact" (line 6): "customer.email" is not a JSON path`,
		"channels:\n  ops:\n    - type: webhook\n      url: https://x.example.com\n      secret: s\n      redact: $.a\n":              `field "redact" (line 6): give a list of JSON paths`,
		"channels:\n  ops:\n    - type: webhook\n      url: https://x.example.com\n      secret: s\n      omit_payload: yes\n":        `field "omit_payload" (line 6): "yes" is not true or false`,
		"channels:\n  ops:\n    - type: slack\n      url: https://x.example.com\n      redact: [$.a]\n":                               `field "redact" (line 5) does not apply to a slack target`,
	} {
		if _, err := notify.Parse([]byte(file), env(nil)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse = %v; want an error with %q", err, want)
		}
	}
}

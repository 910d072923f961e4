package klaxon

import (
	"fmt"
	"regexp"

	"github.com/klaxonhq/klaxon/redact"
)

// RedactionMarker replaces every masked value in what the HTTP API, the
// dashboard and the notifications show of a run.
const RedactionMarker = redact.Marker

// Redact declares JSON paths ($.customer.email, $.documents[*].text, with *
// for any key or element) whose values are masked with RedactionMarker
// wherever a token below admin reads the workflow's runs: the HTTP API and
// the dashboard (run input and output, step outputs, signal payloads,
// approval data, dead-letter entries), and its dead-letter notifications.
// Each path applies to every one of those payloads. The store keeps the
// values intact: an admin token sees them, and replays use them. The rule
// is recorded with the workflow's registration, so a server that does not
// host the workflow applies it too. Client.Register refuses a path that is
// not one, naming it.
func Redact(paths ...string) WorkflowOption {
	return func(o *workflowOptions) { o.redact = append(o.redact, paths...) }
}

// RedactPattern declares a regular expression (sk-[A-Za-z0-9]{20,} for API
// keys, say) whose matches are masked, like Redact's values, in every string
// of the workflow's payloads and in its runs' error messages.
func RedactPattern(pattern *regexp.Regexp) WorkflowOption {
	return func(o *workflowOptions) {
		if pattern == nil {
			o.redactPatterns = append(o.redactPatterns, "")
			return
		}
		o.redactPatterns = append(o.redactPatterns, pattern.String())
	}
}

// checkRedaction refuses a workflow whose redaction rule holds a bad path or
// pattern, naming it.
func (w *Workflow[In, Out]) checkRedaction() error {
	if _, err := redact.NewRule(w.options.redact, w.options.redactPatterns); err != nil {
		return fmt.Errorf("klaxon: workflow %q: redaction: %w", w.name, err)
	}
	return nil
}

// redaction is the workflow's redaction rule as the store records it.
func (w *Workflow[In, Out]) redaction() (paths, patterns []string) {
	return w.options.redact, w.options.redactPatterns
}

// RedactionPolicy is the operator's redaction policy the client was
// configured with (Config.Redaction); nil when none.
func (c *Client) RedactionPolicy() *redact.Policy { return c.config.Redaction }

package tracing_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon"
)

type customer struct {
	Email string `json:"email"`
	Key   string `json:"key"`
}

// TestSpansCarryNoPayloads holds what docs/redaction.md says of traces: a
// span carries the workflow, run, step and model-call names, counts and
// classes, never a run's input, output or step outputs, so a redacted
// value cannot reach a trace backend through them. (An error's message is
// the span's status description: that text is the workflow's own.)
func TestSpansCarryNoPayloads(t *testing.T) {
	t.Parallel()
	const email, key = "ada@example.com", "sk-ABCDEFGHIJKLMNOPQRSTUVWX"
	wf := klaxon.NewWorkflow("traced-redaction", func(ctx context.Context, in customer) (customer, error) {
		return klaxon.Step(ctx, "echo", func(context.Context) (customer, error) { return in, nil })
	}, klaxon.Redact("$.email"), klaxon.RedactPattern(regexp.MustCompile(`sk-[A-Za-z0-9]{20,}`)))
	run, spans := runTraced(t, wf, customer{Email: email, Key: key})
	if !strings.Contains(string(run.Output), email) {
		t.Fatalf("the run's output %s does not hold the value the test looks for", run.Output)
	}
	if len(spans) < 2 {
		t.Fatalf("%d spans, want the attempt and its step", len(spans))
	}
	for _, span := range spans {
		text := span.Name + " " + span.Status.Description
		for _, attr := range span.Attributes {
			text += " " + string(attr.Key) + "=" + attr.Value.Emit()
		}
		for _, event := range span.Events {
			text += " " + event.Name + fmt.Sprint(event.Attributes)
		}
		if strings.Contains(text, email) || strings.Contains(text, key) {
			t.Errorf("span %q carries a payload value: %s", span.Name, text)
		}
	}
}

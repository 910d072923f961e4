package tracing_test

import (
	"context"
	"errors"
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
// value cannot reach a trace backend through them.
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

// TestSpanErrorsMaskedByPatterns: an error quoting an API key becomes the
// status description of its step's and attempt's spans with the key masked
// by the workflow's pattern; the run's recorded failure keeps it.
func TestSpanErrorsMaskedByPatterns(t *testing.T) {
	t.Parallel()
	const key = "sk-ABCDEFGHIJKLMNOPQRSTUVWX"
	wf := klaxon.NewWorkflow("traced-error-redaction", func(ctx context.Context, in customer) (string, error) {
		return klaxon.Step(ctx, "provision", func(context.Context) (string, error) {
			return "", klaxon.Permanent(errors.New("provider refused key " + in.Key))
		})
	}, klaxon.RedactPattern(regexp.MustCompile(`sk-[A-Za-z0-9]{20,}`)))
	run, spans := runTraced(t, wf, customer{Key: key})
	if run.Failure == nil || !strings.Contains(run.Failure.Reason, key) {
		t.Fatalf("the run's failure %+v lost the key: the store must keep it", run.Failure)
	}
	failed := 0
	for _, span := range spans {
		if strings.Contains(span.Status.Description, key) {
			t.Errorf("span %q carries the key: %s", span.Name, span.Status.Description)
		}
		if strings.Contains(span.Status.Description, klaxon.RedactionMarker) {
			failed++
		}
	}
	if failed < 2 {
		t.Errorf("%d spans say the masked error; want the step's and the attempt's", failed)
	}
}

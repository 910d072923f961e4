package klaxon

import (
	"context"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/redact"
)

// rulesRefresh is how long the workflows' redaction rules read from the
// store are trusted before they are read again, so that the tracer does not
// query the store for every span.
const rulesRefresh = 10 * time.Second

// redactingTracer hands the configured tracer errors whose messages are
// masked by their workflow's redaction patterns: a span's status
// description is an error's message, and would otherwise carry what the
// pattern hides (an API key quoted in an error) to the trace backend.
// Spans carry no payloads, so paths have nothing to mask there.
type redactingTracer struct {
	inner klaxontype.Tracer
	rules *workflowRules
}

// ruleKey carries the attempt's rule to the model and tool calls inside it,
// which are not told their run.
type ruleKey struct{}

func (t *redactingTracer) StartAttempt(ctx context.Context, run *klaxontype.Run) (context.Context, func(*klaxontype.AttemptOutcome)) {
	rule := t.rules.of(ctx, run.Workflow)
	ctx, end := t.inner.StartAttempt(context.WithValue(ctx, ruleKey{}, rule), run)
	return ctx, func(o *klaxontype.AttemptOutcome) {
		if err := maskedErr(rule, o.Err); err != o.Err {
			masked := *o
			masked.Err = err
			o = &masked
		}
		end(o)
	}
}

func (t *redactingTracer) StartStep(ctx context.Context, run *klaxontype.Run, seq int, name string) (context.Context, func(*klaxontype.StepOutcome)) {
	rule := t.rules.of(ctx, run.Workflow)
	ctx, end := t.inner.StartStep(context.WithValue(ctx, ruleKey{}, rule), run, seq, name)
	return ctx, func(o *klaxontype.StepOutcome) {
		if err := maskedErr(rule, o.Err); err != o.Err {
			masked := *o
			masked.Err = err
			o = &masked
		}
		end(o)
	}
}

// ChildStarted passes the start of a child run on to a tracer that hears of
// them; a span names a run by its ID, which is never masked.
func (t *redactingTracer) ChildStarted(ctx context.Context, child *klaxontype.Run) {
	if inner, ok := t.inner.(klaxontype.ChildTracer); ok {
		inner.ChildStarted(ctx, child)
	}
}

func (t *redactingTracer) StartModelCall(ctx context.Context, call *klaxontype.ModelCall) (context.Context, func(*klaxontype.ModelCallOutcome)) {
	rule, _ := ctx.Value(ruleKey{}).(*redact.Rule)
	ctx, end := t.inner.StartModelCall(ctx, call)
	return ctx, func(o *klaxontype.ModelCallOutcome) {
		if err := maskedErr(rule, o.Err); err != o.Err {
			masked := *o
			masked.Err = err
			o = &masked
		}
		end(o)
	}
}

func (t *redactingTracer) StartToolCall(ctx context.Context, call *klaxontype.ToolCall) (context.Context, func(*klaxontype.ToolCallOutcome)) {
	rule, _ := ctx.Value(ruleKey{}).(*redact.Rule)
	ctx, end := t.inner.StartToolCall(ctx, call)
	return ctx, func(o *klaxontype.ToolCallOutcome) {
		if err := maskedErr(rule, o.Err); err != o.Err {
			masked := *o
			masked.Err = err
			o = &masked
		}
		end(o)
	}
}

// maskedErr is err with its message masked, still matching what err matches;
// err itself when the rule changes nothing.
func maskedErr(rule *redact.Rule, err error) error {
	if err == nil || rule.Empty() {
		return err
	}
	message := rule.Text(err.Error())
	if message == err.Error() {
		return err
	}
	return &maskedError{message: message, err: err}
}

// maskedError is an error whose message was masked for a trace.
type maskedError struct {
	message string
	err     error
}

func (e *maskedError) Error() string { return e.message }
func (e *maskedError) Unwrap() error { return e.err }

// workflowRules finds a workflow's redaction rule: a Go workflow's from its
// registration in this process, any other's from the store, read again
// after rulesRefresh; the client's policy added to either.
type workflowRules struct {
	local  map[string]*redact.Rule
	policy *redact.Policy
	store  interface {
		WorkflowList(ctx context.Context) ([]*klaxontype.WorkflowInfo, error)
	}

	mu     sync.Mutex
	stored *redact.Set
	readAt time.Time
}

func (r *workflowRules) of(ctx context.Context, workflow string) *redact.Rule {
	if rule, ok := r.local[workflow]; ok {
		return rule
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stored == nil || time.Since(r.readAt) > rulesRefresh {
		workflows, err := r.store.WorkflowList(ctx)
		if err == nil {
			if rules, err := redact.NewSet(workflows, r.policy); err == nil {
				r.stored, r.readAt = rules, time.Now()
			}
		}
	}
	if r.stored == nil {
		// The store could not be read: the policy's part at least.
		return r.policy.For(workflow)
	}
	return r.stored.For(workflow)
}

// tracer is the configured tracer, masking errors by the workflows'
// redaction rules; nil when none is configured. The caller holds c.mu: the
// Go workflows' rules are taken now, since none can be registered after
// Start.
func (c *Client) tracer() klaxontype.Tracer {
	if c.config.Tracer == nil {
		return nil
	}
	local := make(map[string]*redact.Rule, len(c.workflows))
	for name, w := range c.workflows {
		// Register checked the rule: it compiles.
		rule, _ := redact.NewRule(w.redaction())
		local[name] = redact.Merge(rule, c.config.Redaction.For(name))
	}
	return &redactingTracer{inner: c.config.Tracer, rules: &workflowRules{local: local, policy: c.config.Redaction, store: c.store}}
}

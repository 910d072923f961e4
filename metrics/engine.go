package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// Namespace prefixes every metric name of this package.
const Namespace = "klaxon"

// Engine holds the metrics this process's workers report through the client's
// hooks. Its methods are the hooks; Instrument installs them.
type Engine struct {
	stepAttempts     *prometheus.CounterVec
	stepReplays      *prometheus.CounterVec
	stepDuration     *prometheus.HistogramVec
	attempts         *prometheus.CounterVec
	attemptFailures  *prometheus.CounterVec
	runsFinished     *prometheus.CounterVec
	manifestMissing  *prometheus.CounterVec
	runRetries       *prometheus.HistogramVec
	runTokens        *prometheus.HistogramVec
	runCost          *prometheus.HistogramVec
	runsUnknownCost  *prometheus.CounterVec
	modelCalls       *prometheus.CounterVec
	modelTokens      *prometheus.CounterVec
	modelCost        *prometheus.CounterVec
	modelUnknownCost *prometheus.CounterVec
	rateLimitWait    *prometheus.HistogramVec
}

// NewEngine makes the engine's metrics and registers them on reg.
func NewEngine(reg prometheus.Registerer) (*Engine, error) {
	if reg == nil {
		return nil, errors.New("klaxon metrics: NewEngine needs a registerer")
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, buckets []float64) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, []string{"workflow"})
	}
	e := &Engine{
		stepAttempts: counter("step_attempts_total",
			"Step functions executed by this process, by workflow and outcome (completed or failed).", "workflow", "outcome"),
		stepReplays: counter("step_replays_total",
			"Step calls answered from the step log without running the step, by workflow.", "workflow"),
		stepDuration: histogram("step_duration_seconds",
			"How long executed step functions ran, by workflow.", prometheus.ExponentialBuckets(0.001, 4, 10)),
		attempts: counter("run_attempts_total",
			"Run attempts that ended in this process, by workflow and result (completed, retrying, waiting, dead, released, lease_lost, abandoned). "+
				"lease_lost attempts are those whose writes were refused and recorded as suppressed duplicates.", "workflow", "result"),
		attemptFailures: counter("run_attempt_failures_total",
			"Failed run attempts, retried or dead, by workflow and failure class.", "workflow", "class"),
		runsFinished: counter("runs_finished_total",
			"Runs this process brought to a terminal status, by workflow and status (completed or dead).", "workflow", "status"),
		manifestMissing: counter("runs_manifest_incomplete_total",
			"Runs that returned without every expected step and went dead as partial_completion, by workflow.", "workflow"),
		runRetries: histogram("run_retries",
			"Retries a run took, observed when it completed or went dead, by workflow.", []float64{0, 1, 2, 3, 5, 8, 13, 21}),
		runTokens: histogram("run_tokens",
			"Tokens (input plus output) a run spent in all, observed when it completed or went dead, by workflow.",
			prometheus.ExponentialBuckets(100, 4, 10)),
		runCost: histogram("run_cost_usd",
			"Dollars a run spent in all, observed when it completed or went dead, by workflow; runs of unknown cost are counted in runs_unknown_cost_total instead.",
			prometheus.ExponentialBuckets(0.0001, 4, 10)),
		runsUnknownCost: counter("runs_unknown_cost_total",
			"Runs that completed or went dead with an unknown cost (a model call without a price), by workflow.", "workflow"),
		modelCalls: counter("model_calls_total",
			"Model calls reported by steps, by workflow.", "workflow"),
		modelTokens: counter("model_tokens_total",
			"Tokens of model calls, by workflow and kind (input, output, cached; cached tokens are part of input).", "workflow", "kind"),
		modelCost: counter("model_cost_usd_total",
			"Dollars of model calls whose price is known, by workflow.", "workflow"),
		modelUnknownCost: counter("model_calls_unknown_cost_total",
			"Model calls whose price is unknown, by workflow: their cost is not in model_cost_usd_total, never counted as zero.", "workflow"),
		rateLimitWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "rate_limit_wait_seconds",
			Help:    "How long executed steps waited for the capacity of a rate limit before they ran, by limit key; a step whose run released its worker to wait is observed with its wait in process when it runs.",
			Buckets: []float64{0, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300},
		}, []string{"key"}),
	}
	for _, c := range []prometheus.Collector{
		e.stepAttempts, e.stepReplays, e.stepDuration, e.attempts, e.attemptFailures, e.runsFinished,
		e.manifestMissing, e.runRetries, e.runTokens, e.runCost, e.runsUnknownCost,
		e.modelCalls, e.modelTokens, e.modelCost, e.modelUnknownCost, e.rateLimitWait,
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// OnStep counts a step call; it is a klaxon.Config.OnStep hook.
func (e *Engine) OnStep(o *klaxontype.StepOutcome) {
	if o.Replayed {
		e.stepReplays.WithLabelValues(o.Workflow).Inc()
		return
	}
	outcome := "completed"
	if o.Err != nil {
		outcome = "failed"
	}
	e.stepAttempts.WithLabelValues(o.Workflow, outcome).Inc()
	e.stepDuration.WithLabelValues(o.Workflow).Observe(o.Duration.Seconds())
	for _, key := range o.RateLimits {
		e.rateLimitWait.WithLabelValues(key).Observe(o.RateLimitWait.Seconds())
	}
}

// OnSpend counts a model call's tokens and cost; it is a
// klaxon.Config.OnSpend hook.
func (e *Engine) OnSpend(o *klaxontype.SpendOutcome) {
	spend := o.Spend
	calls := float64(spend.ModelCalls)
	if spend.ModelCalls == 0 {
		// A report is one call unless it says otherwise.
		calls = 1
	}
	e.modelCalls.WithLabelValues(o.Workflow).Add(calls)
	e.modelTokens.WithLabelValues(o.Workflow, "input").Add(float64(spend.Usage.InputTokens))
	e.modelTokens.WithLabelValues(o.Workflow, "output").Add(float64(spend.Usage.OutputTokens))
	e.modelTokens.WithLabelValues(o.Workflow, "cached").Add(float64(spend.Usage.CachedTokens))
	if spend.Cost.Unknown {
		e.modelUnknownCost.WithLabelValues(o.Workflow).Add(calls)
		return
	}
	e.modelCost.WithLabelValues(o.Workflow).Add(spend.Cost.USD)
}

// OnAttempt counts how an attempt ended, and observes the run's retries,
// tokens and cost when it ended the run; it is a klaxon.Config.OnAttempt
// hook.
func (e *Engine) OnAttempt(o *klaxontype.AttemptOutcome) {
	e.attempts.WithLabelValues(o.Workflow, string(o.Result)).Inc()
	if o.Result == klaxontype.AttemptRetrying || o.Result == klaxontype.AttemptDead {
		e.attemptFailures.WithLabelValues(o.Workflow, string(o.Class)).Inc()
	}
	if o.Result != klaxontype.AttemptCompleted && o.Result != klaxontype.AttemptDead {
		return
	}
	e.runsFinished.WithLabelValues(o.Workflow, string(o.Result)).Inc()
	if o.Result == klaxontype.AttemptDead && o.Class == klaxontype.ClassPartialCompletion {
		e.manifestMissing.WithLabelValues(o.Workflow).Inc()
	}
	e.runRetries.WithLabelValues(o.Workflow).Observe(float64(o.Retries))
	e.runTokens.WithLabelValues(o.Workflow).Observe(float64(o.Spend.Usage.Total()))
	if o.Spend.Cost.Unknown {
		e.runsUnknownCost.WithLabelValues(o.Workflow).Inc()
	} else {
		e.runCost.WithLabelValues(o.Workflow).Observe(o.Spend.Cost.USD)
	}
}

// Instrument registers the engine's metrics on reg and installs them as
// config's hooks, after any hooks config already has, so a program keeps its
// own. Call it before klaxon.NewClient.
func Instrument(config *klaxon.Config, reg prometheus.Registerer) (*Engine, error) {
	if config == nil {
		return nil, errors.New("klaxon metrics: Instrument needs a config")
	}
	e, err := NewEngine(reg)
	if err != nil {
		return nil, err
	}
	config.OnStep = chain(config.OnStep, e.OnStep)
	config.OnAttempt = chain(config.OnAttempt, e.OnAttempt)
	config.OnSpend = chain(config.OnSpend, e.OnSpend)
	return e, nil
}

// chain calls first, if set, then second.
func chain[T any](first, second func(T)) func(T) {
	if first == nil {
		return second
	}
	return func(o T) {
		first(o)
		second(o)
	}
}

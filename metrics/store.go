package metrics

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// DefaultStoreCacheTTL is how long StoreCollector reuses what it read, so
// that a storm of scrapes (several Prometheus servers, a person reloading)
// queries the store at most once per period.
const DefaultStoreCacheTTL = 2 * time.Second

// DefaultStoreScrapeWait is how long a scrape waits for a read of the store
// it started before it serves the previous read's figures instead: over
// millions of runs the read takes longer than a scrape should, and totals a
// few seconds old serve rates and alerts as well.
const DefaultStoreScrapeWait = 50 * time.Millisecond

// storeQueryTimeout bounds the store's queries of one read. Reads run in the
// background of scrapes, so it can be long.
const storeQueryTimeout = 30 * time.Second

var (
	runsDesc = prometheus.NewDesc(Namespace+"_runs",
		"Runs in the store by workflow and status, from every process.", []string{"workflow", "status"}, nil)
	dlqOpenDesc = prometheus.NewDesc(Namespace+"_dlq_entries_open",
		"Dead-letter entries still open (waiting for a person), by workflow and failure class.", []string{"workflow", "class"}, nil)
	dlqTotalDesc = prometheus.NewDesc(Namespace+"_dlq_entries_total",
		"Dead-letter entries ever created, in any state, by workflow and failure class, those purged or deleted by retention included: take a rate of it.",
		[]string{"workflow", "class"}, nil)
	breakerOpenDesc = prometheus.NewDesc(Namespace+"_breaker_open",
		"1 when the workflow's breaker is open (its queue paused), 0 when closed.", []string{"workflow"}, nil)
	outboxPendingDesc = prometheus.NewDesc(Namespace+"_outbox_pending",
		"Notifications (dead letters, breakers) waiting in the outbox to be delivered.", nil, nil)
	duplicatesDesc = prometheus.NewDesc(Namespace+"_duplicates_suppressed_total",
		"Writes of stale lease holders that the store refused (duplicate.suppressed events), by workflow: "+
			"retries that would have applied a step twice.", []string{"workflow"}, nil)
	alertsFiringDesc = prometheus.NewDesc(Namespace+"_alerts_firing",
		"1 for each alert the server's rules have firing, by rule, kind, workflow, class and severity; no series when none fires.",
		[]string{"rule", "kind", "workflow", "class", "severity"}, nil)
	// The workflow totals are the database's counts of what every worker
	// did, named apart from the engine's per-process series of metrics.Engine
	// (klaxon_run_attempts_total, klaxon_model_cost_usd_total, …) so that a
	// process can serve both.
	workflowRunsDesc = prometheus.NewDesc(Namespace+"_workflow_runs_total",
		"Runs ever enqueued, by workflow, from every process; runs deleted by retention included.", []string{"workflow"}, nil)
	workflowAttemptsDesc = prometheus.NewDesc(Namespace+"_workflow_run_attempts_total",
		"Run attempts started (claims) by workflow, from every process.", []string{"workflow"}, nil)
	workflowRetriesDesc = prometheus.NewDesc(Namespace+"_workflow_run_retries_total",
		"Retries scheduled after failed attempts, by workflow, from every process.", []string{"workflow"}, nil)
	workflowTokensDesc = prometheus.NewDesc(Namespace+"_workflow_model_tokens_total",
		"Tokens of model calls by workflow and kind (input, output, cached; cached tokens are part of input), from every process.",
		[]string{"workflow", "kind"}, nil)
	workflowCostDesc = prometheus.NewDesc(Namespace+"_workflow_model_cost_usd_total",
		"Dollars of model calls whose price is known, by workflow, from every process.", []string{"workflow"}, nil)
	workflowCallsDesc = prometheus.NewDesc(Namespace+"_workflow_model_calls_total",
		"Model calls reported by steps, by workflow, from every process.", []string{"workflow"}, nil)
	workflowUnknownCostDesc = prometheus.NewDesc(Namespace+"_workflow_runs_unknown_cost_total",
		"Runs with a model call of unknown price, by workflow, from every process: their cost is missing from "+
			"klaxon_workflow_model_cost_usd_total, never counted as zero.", []string{"workflow"}, nil)
	workflowManifestDesc = prometheus.NewDesc(Namespace+"_workflow_runs_manifest_incomplete_total",
		"Runs that returned without every expected step and went dead as partial_completion, by workflow, from every process.",
		[]string{"workflow"}, nil)
	storeUpDesc = prometheus.NewDesc(Namespace+"_store_up",
		"1 when the last read of the store for these metrics succeeded, 0 when it failed.", nil, nil)
)

// StoreCollector is a prometheus.Collector that reads the store's counts
// when scraped, at most once per TTL. A scrape waits for the read it starts
// at most a bounded time, then serves the previous read's figures, so that a
// scrape stays fast however many runs the store holds.
type StoreCollector struct {
	store Storage
	ttl   time.Duration
	wait  time.Duration
	now   func() time.Time

	mu sync.Mutex
	// reading is closed when the read in flight ends; nil when none is.
	// Concurrent scrapes share one read.
	reading  chan struct{}
	read     bool
	readAt   time.Time
	snapshot []prometheus.Metric
	err      error
}

// StoreCollectorOption changes a StoreCollector.
type StoreCollectorOption func(*StoreCollector)

// StoreScrapeWait sets how long a scrape waits for a read of the store
// before it serves the previous read's figures; zero means
// DefaultStoreScrapeWait. The first scrape always waits for the first read.
func StoreScrapeWait(wait time.Duration) StoreCollectorOption {
	return func(c *StoreCollector) {
		if wait > 0 {
			c.wait = wait
		}
	}
}

// NewStoreCollector returns a collector of st's counts that reads st at most
// once per ttl; zero means DefaultStoreCacheTTL.
func NewStoreCollector(st Storage, ttl time.Duration, opts ...StoreCollectorOption) *StoreCollector {
	if ttl <= 0 {
		ttl = DefaultStoreCacheTTL
	}
	c := &StoreCollector{store: st, ttl: ttl, wait: DefaultStoreScrapeWait, now: time.Now}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// Describe sends the descriptors of every metric the collector makes.
func (c *StoreCollector) Describe(descs chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{runsDesc, dlqOpenDesc, dlqTotalDesc, breakerOpenDesc, outboxPendingDesc, duplicatesDesc, alertsFiringDesc,
		workflowRunsDesc, workflowAttemptsDesc, workflowRetriesDesc, workflowTokensDesc, workflowCostDesc, workflowCallsDesc,
		workflowUnknownCostDesc, workflowManifestDesc, storeUpDesc} {
		descs <- d
	}
}

// Collect sends the store's counts, read afresh when the last read is older
// than the TTL: it waits for that read at most the scrape wait, and otherwise
// sends the previous read's counts while the read goes on for the next
// scrape. When the store cannot be read it sends klaxon_store_up 0 and nothing
// else, rather than numbers that would look like a drop to zero.
func (c *StoreCollector) Collect(metrics chan<- prometheus.Metric) {
	c.mu.Lock()
	if c.reading == nil && (!c.read || c.now().Sub(c.readAt) >= c.ttl) {
		c.reading = make(chan struct{})
		go c.refresh(c.reading)
	}
	reading, first := c.reading, !c.read
	c.mu.Unlock()
	if reading != nil {
		if first {
			<-reading
		} else {
			timer := time.NewTimer(c.wait)
			select {
			case <-reading:
			case <-timer.C:
			}
			timer.Stop()
		}
	}
	c.mu.Lock()
	snapshot, err := c.snapshot, c.err
	c.mu.Unlock()
	if err != nil {
		metrics <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 0)
		return
	}
	for _, m := range snapshot {
		metrics <- m
	}
	metrics <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 1)
}

// refresh reads the store and keeps what it read for the scrapes to come,
// then closes done.
func (c *StoreCollector) refresh(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), storeQueryTimeout)
	snapshot, err := c.readStore(ctx)
	cancel()
	c.mu.Lock()
	c.snapshot, c.err, c.read, c.readAt, c.reading = snapshot, err, true, c.now(), nil
	c.mu.Unlock()
	close(done)
}

// readStore queries the store once for every metric.
func (c *StoreCollector) readStore(ctx context.Context) ([]prometheus.Metric, error) {
	var metrics []prometheus.Metric
	gauge := func(desc *prometheus.Desc, value int, labels ...string) {
		metrics = append(metrics, prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(value), labels...))
	}
	workflows, err := c.store.WorkflowList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	counts, err := c.store.RunCountByWorkflowAndStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	names := make(map[string]bool, len(workflows))
	for _, workflow := range workflows {
		names[workflow.Name] = true
		for _, status := range klaxontype.RunStatuses() {
			gauge(runsDesc, counts[workflow.Name][status], workflow.Name, string(status))
		}
	}

	entries, err := c.store.DLQCount(ctx)
	if err != nil {
		return nil, fmt.Errorf("count dead-letter entries: %w", err)
	}
	deletedEntries, err := c.store.DLQCountDeleted(ctx)
	if err != nil {
		return nil, fmt.Errorf("count deleted dead-letter entries: %w", err)
	}
	type key struct{ workflow, class string }
	open, total := map[key]int{}, map[key]int{}
	for _, e := range append(entries, deletedEntries...) {
		k := key{e.Workflow, string(e.Class)}
		total[k] += e.Count
		if e.State == klaxontype.DeadLetterOpen {
			open[k] += e.Count
		}
		names[e.Workflow] = true
	}
	// Every class of every workflow is exported, zeros included, so that
	// the first entry of a class is a rise that rate() sees.
	for name := range names {
		for _, class := range klaxontype.FailureClasses() {
			k := key{name, string(class)}
			gauge(dlqOpenDesc, open[k], name, k.class)
			metrics = append(metrics, prometheus.MustNewConstMetric(dlqTotalDesc, prometheus.CounterValue, float64(total[k]), name, k.class))
		}
	}

	c.foldTotals(ctx)
	totals, err := c.store.RunSumByWorkflow(ctx)
	if err != nil {
		return nil, fmt.Errorf("sum the runs: %w", err)
	}
	byWorkflow := make(map[string]*store.RunTotals, len(totals))
	for _, t := range totals {
		byWorkflow[t.Workflow] = t
		names[t.Workflow] = true
	}
	// Every workflow has every series, zeros included, so that its first run
	// is a rise that rate() sees.
	for name := range names {
		t := byWorkflow[name]
		if t == nil {
			t = &store.RunTotals{Workflow: name}
		}
		counter := func(desc *prometheus.Desc, value float64, labels ...string) {
			metrics = append(metrics, prometheus.MustNewConstMetric(desc, prometheus.CounterValue, value, append([]string{name}, labels...)...))
		}
		counter(workflowRunsDesc, float64(t.Runs))
		counter(workflowAttemptsDesc, float64(t.Attempts))
		counter(workflowRetriesDesc, float64(t.Retries))
		counter(workflowTokensDesc, float64(t.Usage.InputTokens), "input")
		counter(workflowTokensDesc, float64(t.Usage.OutputTokens), "output")
		counter(workflowTokensDesc, float64(t.Usage.CachedTokens), "cached")
		counter(workflowCostDesc, t.CostUSD)
		counter(workflowCallsDesc, float64(t.ModelCalls))
		counter(workflowUnknownCostDesc, float64(t.RunsUnknownCost))
		counter(workflowManifestDesc, float64(total[key{name, string(klaxontype.ClassPartialCompletion)}]))
	}

	breakers, err := c.store.BreakerList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list breakers: %w", err)
	}
	tripped := make(map[string]bool, len(breakers))
	for _, b := range breakers {
		tripped[b.Workflow] = b.Open
	}
	for name := range names {
		open := 0
		if tripped[name] {
			open = 1
		}
		gauge(breakerOpenDesc, open, name)
	}
	for name, open := range tripped {
		if !names[name] {
			value := 0
			if open {
				value = 1
			}
			gauge(breakerOpenDesc, value, name)
		}
	}

	duplicates, err := c.store.EventCountSuppressed(ctx)
	if err != nil {
		return nil, fmt.Errorf("count suppressed duplicates: %w", err)
	}
	for name := range duplicates {
		names[name] = true
	}
	for name := range names {
		metrics = append(metrics, prometheus.MustNewConstMetric(duplicatesDesc, prometheus.CounterValue, float64(duplicates[name]), name))
	}

	pending, err := c.store.OutboxCountPending(ctx)
	if err != nil {
		return nil, fmt.Errorf("count the outbox: %w", err)
	}
	gauge(outboxPendingDesc, pending)

	firing, err := c.store.AlertList(ctx, &store.AlertListParams{
		States: []klaxontype.AlertState{klaxontype.AlertFiring}, Limit: maxFiringAlerts,
	})
	if err != nil {
		return nil, fmt.Errorf("list firing alerts: %w", err)
	}
	for _, a := range firing {
		gauge(alertsFiringDesc, 1, a.Rule, string(a.Kind), a.Workflow, string(a.Class), string(a.Severity))
	}
	return metrics, nil
}

// foldBatch and foldBudget bound the folding of one read: batches small
// enough not to stall the store's writes, for at most a second, so that a
// store of millions of runs never folded before is folded over a few reads.
const (
	foldBatch  = 2000
	foldBudget = time.Second
)

// foldTotals folds the runs that ended since the last read, so that the sum
// of the run totals reads few runs. A fold that fails (a read-only store)
// leaves the sum right, only slower: the error is not the scrape's.
func (c *StoreCollector) foldTotals(ctx context.Context) {
	deadline := time.Now().Add(foldBudget)
	for time.Now().Before(deadline) {
		folded, err := c.store.RunTotalsFold(ctx, foldBatch)
		if err != nil || folded < foldBatch {
			return
		}
	}
}

// maxFiringAlerts bounds the alerts one scrape reports: one per rule and
// workflow (and class) can fire at once, far fewer than this.
const maxFiringAlerts = 1000

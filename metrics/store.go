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

// storeQueryTimeout bounds the store's queries of one scrape.
const storeQueryTimeout = 5 * time.Second

var (
	runsDesc = prometheus.NewDesc(Namespace+"_runs",
		"Runs in the store by workflow and status, from every process.", []string{"workflow", "status"}, nil)
	dlqOpenDesc = prometheus.NewDesc(Namespace+"_dlq_entries_open",
		"Dead-letter entries still open (waiting for a person), by workflow and failure class.", []string{"workflow", "class"}, nil)
	dlqTotalDesc = prometheus.NewDesc(Namespace+"_dlq_entries_total",
		"Dead-letter entries ever created, in any state, by workflow and failure class: take a rate of it. "+
			"A purge deletes entries and so lowers it, which Prometheus reads as a counter reset.", []string{"workflow", "class"}, nil)
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
	storeUpDesc = prometheus.NewDesc(Namespace+"_store_up",
		"1 when the last read of the store for these metrics succeeded, 0 when it failed.", nil, nil)
)

// StoreCollector is a prometheus.Collector that reads the store's counts
// when scraped, at most once per TTL.
type StoreCollector struct {
	store Storage
	ttl   time.Duration
	now   func() time.Time

	// mu is held while the store is read, so concurrent scrapes wait for
	// one read and share it.
	mu       sync.Mutex
	readAt   time.Time
	snapshot []prometheus.Metric
	err      error
}

// NewStoreCollector returns a collector of st's counts that reads st at most
// once per ttl; zero means DefaultStoreCacheTTL.
func NewStoreCollector(st Storage, ttl time.Duration) *StoreCollector {
	if ttl <= 0 {
		ttl = DefaultStoreCacheTTL
	}
	return &StoreCollector{store: st, ttl: ttl, now: time.Now}
}

// Describe sends the descriptors of every metric the collector makes.
func (c *StoreCollector) Describe(descs chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{runsDesc, dlqOpenDesc, dlqTotalDesc, breakerOpenDesc, outboxPendingDesc, duplicatesDesc, alertsFiringDesc, storeUpDesc} {
		descs <- d
	}
}

// Collect sends the store's counts, read afresh when the last read is older
// than the TTL. When the store cannot be read it sends klaxon_store_up 0 and
// nothing else, rather than numbers that would look like a drop to zero.
func (c *StoreCollector) Collect(metrics chan<- prometheus.Metric) {
	c.mu.Lock()
	if c.readAt.IsZero() || c.now().Sub(c.readAt) >= c.ttl {
		ctx, cancel := context.WithTimeout(context.Background(), storeQueryTimeout)
		c.snapshot, c.err = c.read(ctx)
		cancel()
		c.readAt = c.now()
	}
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

// read queries the store once for every metric.
func (c *StoreCollector) read(ctx context.Context) ([]prometheus.Metric, error) {
	var metrics []prometheus.Metric
	gauge := func(desc *prometheus.Desc, value int, labels ...string) {
		metrics = append(metrics, prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(value), labels...))
	}
	workflows, err := c.store.WorkflowList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	names := make(map[string]bool, len(workflows))
	for _, workflow := range workflows {
		names[workflow.Name] = true
		counts, err := c.store.RunCountByStatus(ctx, &store.RunCountByStatusParams{Workflow: workflow.Name})
		if err != nil {
			return nil, fmt.Errorf("count runs of %s: %w", workflow.Name, err)
		}
		for _, status := range klaxontype.RunStatuses() {
			gauge(runsDesc, counts[status], workflow.Name, string(status))
		}
	}

	entries, err := c.store.DLQCount(ctx)
	if err != nil {
		return nil, fmt.Errorf("count dead-letter entries: %w", err)
	}
	type key struct{ workflow, class string }
	open, total := map[key]int{}, map[key]int{}
	for _, e := range entries {
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

// maxFiringAlerts bounds the alerts one scrape reports: one per rule and
// workflow (and class) can fire at once, far fewer than this.
const maxFiringAlerts = 1000

package metrics_test

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/metrics"
	"github.com/klaxonhq/klaxon/store"
)

// countingStore counts the reads of a scrape.
type countingStore struct {
	store.Store
	reads atomic.Int32
}

func (s *countingStore) WorkflowList(ctx context.Context) ([]*klaxontype.WorkflowInfo, error) {
	s.reads.Add(1)
	return s.Store.WorkflowList(ctx)
}

// A storm of scrapes reads the store once per TTL: concurrent scrapes wait
// for one read and share it.
func TestStoreCollectorCachesReads(t *testing.T) {
	t.Parallel()
	st := &countingStore{Store: openStore(t, filepath.Join(t.TempDir(), "klaxon.db"))}
	registry := prometheus.NewRegistry()
	registry.MustRegister(metrics.NewStoreCollector(st, time.Hour))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := registry.Gather(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := st.reads.Load(); n != 1 {
		t.Errorf("20 scrapes read the store %d times; want 1", n)
	}

	fresh := &countingStore{Store: st.Store}
	registry = prometheus.NewRegistry()
	registry.MustRegister(metrics.NewStoreCollector(fresh, time.Millisecond, metrics.StoreScrapeWait(time.Minute)))
	for range 3 {
		if _, err := registry.Gather(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := fresh.reads.Load(); n != 3 {
		t.Errorf("3 scrapes, each after the TTL, read the store %d times; want 3", n)
	}
}

// A store that cannot be read gives klaxon_store_up 0 and no other store
// metric, rather than zeros that would look like a drained queue.
func TestStoreCollectorReportsStoreDown(t *testing.T) {
	t.Parallel()
	st := openStore(t, filepath.Join(t.TempDir(), "klaxon.db"))
	registry := prometheus.NewRegistry()
	registry.MustRegister(metrics.NewStoreCollector(st, time.Nanosecond, metrics.StoreScrapeWait(time.Minute)))
	up := func() (float64, int) {
		t.Helper()
		families, err := registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		value := -1.0
		for _, family := range families {
			if family.GetName() == "klaxon_store_up" {
				value = family.Metric[0].GetGauge().GetValue()
			}
		}
		return value, len(families)
	}
	if value, families := up(); value != 1 || families < 2 {
		t.Fatalf("open store: klaxon_store_up %v among %d families; want 1 among all", value, families)
	}
	_ = st.Close()
	time.Sleep(time.Millisecond)
	if value, families := up(); value != 0 || families != 1 {
		t.Errorf("closed store: klaxon_store_up %v among %d families; want 0 alone", value, families)
	}
}

// An alert the server's rules have firing is a klaxon_alerts_firing series
// with its labels; once resolved it is gone.
func TestStoreCollectorReportsFiringAlerts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "klaxon.db"))
	collector := metrics.NewStoreCollector(st, time.Nanosecond, metrics.StoreScrapeWait(time.Minute))
	firing := func() []string {
		t.Helper()
		registry := prometheus.NewRegistry()
		registry.MustRegister(collector)
		families, err := registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var series []string
		for _, family := range families {
			if family.GetName() != "klaxon_alerts_firing" {
				continue
			}
			for _, m := range family.GetMetric() {
				labels := map[string]string{}
				for _, pair := range m.GetLabel() {
					labels[pair.GetName()] = pair.GetValue()
				}
				series = append(series, labels["rule"]+" "+labels["kind"]+" "+labels["workflow"]+" "+labels["class"]+" "+labels["severity"]+
					" = "+strconv.FormatFloat(m.GetGauge().GetValue(), 'f', -1, 64))
			}
		}
		return series
	}
	if got := firing(); len(got) != 0 {
		t.Fatalf("with no alert: %v; want no series", got)
	}
	alert, fired, err := st.AlertFire(ctx, &store.AlertFireParams{
		ID: "01JALERT000000000000000001", Rule: "dlq-spike", Kind: klaxontype.AlertDLQSpike, Workflow: "pipeline",
		Class: klaxontype.ClassContextOverflow, Severity: klaxontype.SeverityCritical, Summary: "spike",
		Value: 12, Threshold: 5, At: time.Now(),
	})
	if err != nil || !fired {
		t.Fatalf("AlertFire: %v, fired %v", err, fired)
	}
	want := "dlq-spike dlq_spike pipeline context_overflow critical = 1"
	if got := firing(); len(got) != 1 || got[0] != want {
		t.Fatalf("firing: %v; want [%s]", got, want)
	}
	if _, _, err := st.AlertResolve(ctx, &store.AlertResolveParams{ID: alert.ID, At: time.Now()}); err != nil {
		t.Fatalf("AlertResolve: %v", err)
	}
	if got := firing(); len(got) != 0 {
		t.Fatalf("after resolving: %v; want no series", got)
	}
}

// slowStore holds its reads of the run totals until released.
type slowStore struct {
	store.Store
	hold    atomic.Bool
	release chan struct{}
}

func (s *slowStore) RunSumByWorkflow(ctx context.Context) ([]*store.RunTotals, error) {
	if s.hold.Load() {
		<-s.release
	}
	return s.Store.RunSumByWorkflow(ctx)
}

// A read slower than the scrape wait does not hold the scrape: it serves the
// previous read's figures, and the next scrape the new ones.
func TestStoreCollectorServesPreviousReadWhileReading(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &slowStore{Store: openStore(t, filepath.Join(t.TempDir(), "klaxon.db")), release: make(chan struct{})}
	registry := prometheus.NewRegistry()
	registry.MustRegister(metrics.NewStoreCollector(st, time.Nanosecond, metrics.StoreScrapeWait(20*time.Millisecond)))
	runs := func() float64 {
		t.Helper()
		families, err := registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, family := range families {
			if family.GetName() == "klaxon_workflow_runs_total" {
				return family.Metric[0].GetCounter().GetValue()
			}
		}
		return -1
	}
	if got := runs(); got != -1 {
		t.Fatalf("an empty store: klaxon_workflow_runs_total %v; want no series", got)
	}
	if _, _, err := st.RunEnqueue(ctx, &store.RunEnqueueParams{ID: "01JRUN0000000000000000000A", Workflow: "slow", WorkflowVersion: 1, Input: []byte(`{}`), Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	st.hold.Store(true)
	started := time.Now()
	if got := runs(); got != -1 {
		t.Errorf("while the store is read: %v; want the previous read's (no series)", got)
	}
	if waited := time.Since(started); waited > time.Second {
		t.Errorf("the scrape waited %s for a slow read", waited)
	}
	st.hold.Store(false)
	close(st.release)
	deadline := time.Now().Add(5 * time.Second)
	for runs() != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := runs(); got != 1 {
		t.Errorf("after the read: klaxon_workflow_runs_total %v; want 1", got)
	}
}

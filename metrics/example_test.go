package metrics_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/metrics"
	"github.com/klaxonhq/klaxon/sqlite"
)

// A program that embeds Klaxon's workers exports their metrics on a registry
// of its own: Instrument installs the engine's hooks on the client's config,
// and a StoreCollector adds the store's counts (register it in one process
// only when several share the store).
func Example() {
	dir, _ := os.MkdirTemp("", "klaxon-metrics-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "klaxon.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), metrics.NewStoreCollector(st, 0))
	config := &klaxon.Config{PollInterval: 10 * time.Millisecond}
	if _, err := metrics.Instrument(config, registry); err != nil {
		log.Fatal(err)
	}

	greet := klaxon.NewWorkflow("greet", func(ctx context.Context, name string) (string, error) {
		return klaxon.Step(ctx, "hello", func(context.Context) (string, error) { return "hello " + name, nil })
	})
	client, _ := klaxon.NewClient(st, config)
	_ = client.Register(greet)
	_ = client.Start(ctx)
	defer client.Stop(ctx)
	result, _ := greet.Enqueue(ctx, client, "ada")
	_, _ = greet.Await(ctx, client, result.Run.ID)

	// In a real program: http.Handle("/metrics", promhttp.HandlerFor(registry, ...)).
	server := httptest.NewServer(promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	defer server.Close()
	resp, err := http.Get(server.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "klaxon_step_attempts_total") || strings.HasPrefix(line, `klaxon_runs{status="completed"`) {
			fmt.Println(line)
		}
	}
	// Output:
	// klaxon_runs{status="completed",workflow="greet"} 1
	// klaxon_step_attempts_total{outcome="completed",workflow="greet"} 1
}

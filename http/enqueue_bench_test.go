package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// BenchmarkEnqueueOverHTTP measures enqueues through the API over loopback
// HTTP, with a token, into SQLite with synchronous=FULL, from concurrent
// clients (-cpu sets how many goroutines per GOMAXPROCS). It reports the
// throughput and the p50 and p99 latency of one enqueue.
//
//	go test ./http/ -run '^$' -bench EnqueueOverHTTP -benchtime 5s
func BenchmarkEnqueueOverHTTP(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "klaxon.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.WorkflowRegister(ctx, &store.WorkflowRegisterParams{Name: "greet", Version: 1}); err != nil {
		b.Fatal(err)
	}
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		b.Fatal(err)
	}
	tokens, err := klaxonhttp.NewTokens(klaxonhttp.Token{Name: "bench", Scope: klaxonhttp.ScopeOperate, Secret: operateSecret})
	if err != nil {
		b.Fatal(err)
	}
	server, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client, Tokens: tokens})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(server.Handler())
	defer ts.Close()
	// Keep a connection per enqueuer, as a real client pool would.
	transport := ts.Client().Transport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	api := klaxonhttp.NewClient(ts.URL, operateSecret, &http.Client{Transport: transport})
	input := json.RawMessage(`{"document_id":"doc-00042","pages":12}`)

	var (
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, b.N)
	)
	b.SetParallelism(8) // enqueuers are many and mostly waiting on the commit
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			began := time.Now()
			if _, err := api.Enqueue(ctx, &klaxonhttp.EnqueueRequest{Workflow: "greet", Input: input}); err != nil {
				b.Error(err)
				return
			}
			local = append(local, time.Since(began))
		}
		mu.Lock()
		latencies = append(latencies, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "enqueues/s")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
}

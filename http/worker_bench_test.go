package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/protocol"
	"github.com/klaxonhq/klaxon/sqlite"
)

// BenchmarkWorkerProtocol drives the worker protocol from a Go load client
// over loopback HTTP: 5-step no-op runs, 256 at a time, on SQLite with
// synchronous=FULL. One op is one step. It reports steps/s and the p50 and
// p99 of a checkpoint's round trip (request sent to answer read).
func BenchmarkWorkerProtocol(b *testing.B) {
	for _, concurrency := range []int{16, 256} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			benchmarkWorkerProtocol(b, concurrency)
		})
	}
}

func benchmarkWorkerProtocol(b *testing.B, concurrency int) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "klaxon.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		b.Fatal(err)
	}
	workers, err := client.RemoteWorkers(klaxon.RemoteWorkersConfig{})
	if err != nil {
		b.Fatal(err)
	}
	server, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client, Workers: workers})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(server.Handler())
	b.Cleanup(ts.Close)
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency + 1, MaxConnsPerHost: concurrency + 1}}
	steps := []string{"extract", "classify", "enrich", "transform", "store"}
	load := &loadClient{b: b, http: httpClient, base: ts.URL + klaxonhttp.APIPrefix + "/worker"}
	load.post("/register", protocol.RegisterRequest{Worker: protocol.WorkerInfo{ID: "load"},
		Workflows: []protocol.HostedWorkflow{{Name: "noop", ExpectSteps: steps}}}, nil)

	runs := max(b.N/len(steps), 1)
	for i := range runs {
		if _, err := client.Enqueue(ctx, "noop", []byte(fmt.Sprint(i))); err != nil {
			b.Fatal(err)
		}
	}
	claimed := make(chan protocol.ClaimedRun, concurrency)
	free := make(chan struct{}, concurrency)
	for range concurrency {
		free <- struct{}{}
	}
	var wg sync.WaitGroup
	latencies := make([][]time.Duration, concurrency)
	b.ResetTimer()
	start := time.Now()
	for slot := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for run := range claimed {
				for i, name := range steps {
					seq := i + 1
					began := time.Now()
					load.post(fmt.Sprintf("/runs/%s/steps/%d", run.RunID, seq), protocol.CheckpointRequest{
						WorkerID: "load", Workflow: run.Workflow, Attempt: run.Attempt, Epoch: run.Epoch, Name: name,
						IdempotencyKey: fmt.Sprintf("%s/%d/%s", run.RunID, seq, name), Output: json.RawMessage(fmt.Sprint(seq)),
					}, nil)
					latencies[slot] = append(latencies[slot], time.Since(began))
				}
				load.post("/runs/"+run.RunID+"/outcome", protocol.OutcomeRequest{
					WorkerID: "load", Attempt: run.Attempt, Epoch: run.Epoch, Mode: run.Mode, Result: protocol.ResultCompleted,
					Output: json.RawMessage(`5`), StepsDone: []int{1, 2, 3, 4, 5},
				}, nil)
				free <- struct{}{}
			}
		}()
	}
	for done := 0; done < runs; {
		<-free
		slots := 1
		for len(free) > 0 && slots < concurrency {
			<-free
			slots++
		}
		var answer protocol.ClaimAnswer
		load.post("/claim", protocol.ClaimRequest{WorkerID: "load", Workflows: []string{"noop"}, Limit: slots, WaitMS: 1000}, &answer)
		for range slots - len(answer.Runs) {
			free <- struct{}{}
		}
		for _, run := range answer.Runs {
			claimed <- run
		}
		done += len(answer.Runs)
	}
	close(claimed)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(latencies...)
	slices.Sort(all)
	b.ReportMetric(float64(runs*len(steps))/elapsed.Seconds(), "steps/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "checkpoint-p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "checkpoint-p99-ms")
}

// loadClient posts protocol requests and fails the benchmark on any answer
// but 200.
type loadClient struct {
	b    *testing.B
	http *http.Client
	base string
}

func (c *loadClient) post(path string, body, answer any) {
	encoded, err := json.Marshal(body)
	if err != nil {
		c.b.Error(err)
		return
	}
	resp, err := c.http.Post(c.base+path, "application/json", bytes.NewReader(encoded))
	if err != nil {
		c.b.Error(err)
		return
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		c.b.Errorf("POST %s: %d %s %v", path, resp.StatusCode, data, err)
		return
	}
	if answer != nil {
		if err := json.Unmarshal(data, answer); err != nil {
			c.b.Error(err)
		}
	}
}

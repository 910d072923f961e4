package klaxon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/postgres/pgtest"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// benchStores opens, for each benchmark, a new SQLite file and, when
// KLAXON_TEST_POSTGRES_URL is set, a new PostgreSQL schema.
func benchStores(b *testing.B, each func(b *testing.B, open func() store.Store)) {
	b.Run("sqlite", func(b *testing.B) {
		each(b, func() store.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			return st
		})
	})
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv("KLAXON_TEST_POSTGRES_URL") == "" {
			b.Skip("SKIP: KLAXON_TEST_POSTGRES_URL is not set")
		}
		each(b, func() store.Store {
			st, err := postgres.Open(context.Background(), pgtest.SchemaURL(b, "klaxon_bench_"), nil)
			if err != nil {
				b.Fatal(err)
			}
			return st
		})
	})
}

// percentile is the p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p/100*float64(len(sorted))))]
}

// BenchmarkTimersComeDue: KLAXON_BENCH_TIMERS runs (default 100,000) sleep
// until times spread over one minute, while a steady load of one-step runs
// of another workflow runs beside them. It reports how late each timer fired
// (when its run resumed past the sleep) and the other workflow's throughput
// during that minute and, before it, with the timers waiting but none due.
func BenchmarkTimersComeDue(b *testing.B) {
	timers := 100_000
	if n, err := strconv.Atoi(os.Getenv("KLAXON_BENCH_TIMERS")); err == nil && n > 0 {
		timers = n
	}
	const window = time.Minute
	benchStores(b, func(b *testing.B, open func() store.Store) {
		for b.Loop() {
			st := open()
			var lags []time.Duration
			var lagsMu sync.Mutex
			var others atomic.Int64
			var resumed atomic.Int64
			nap := klaxon.NewWorkflow("nap", func(ctx context.Context, dueMillis int64) (int, error) {
				due := time.UnixMilli(dueMillis)
				if err := klaxon.SleepUntil(ctx, "nap", due); err != nil {
					return 0, err
				}
				return klaxon.Step(ctx, "woke", func(context.Context) (int, error) {
					lagsMu.Lock()
					lags = append(lags, time.Since(due))
					lagsMu.Unlock()
					resumed.Add(1)
					return 1, nil
				})
			})
			other := klaxon.NewWorkflow("other", func(ctx context.Context, n int) (int, error) {
				return klaxon.Step(ctx, "work", func(context.Context) (int, error) { others.Add(1); return n, nil })
			})
			client, err := klaxon.NewClient(st, &klaxon.Config{Concurrency: 256})
			if err != nil {
				b.Fatal(err)
			}
			if err := client.Register(nap, other); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			// The timers, due over one minute a while ahead, enqueued before
			// the workers start and the load begins, so that they are all
			// waiting well before the first comes due.
			start := time.Now().Add(3 * time.Minute)
			var enqueuers sync.WaitGroup
			const parallel = 64
			for g := range parallel {
				enqueuers.Go(func() {
					for i := g; i < timers; i += parallel {
						due := start.Add(time.Duration(i) * window / time.Duration(timers))
						if _, err := nap.Enqueue(ctx, client, due.UnixMilli()); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			enqueuers.Wait()
			if err := client.Start(ctx); err != nil {
				b.Fatal(err)
			}
			for {
				counts, err := st.RunCountByStatus(ctx, &store.RunCountByStatusParams{Workflow: "nap"})
				if err != nil {
					b.Fatal(err)
				}
				if counts[klaxontype.RunStatusWaiting] == timers {
					break
				}
				if time.Now().After(start) {
					b.Fatalf("the timers were not all waiting before the first came due: %v", counts)
				}
				time.Sleep(100 * time.Millisecond)
			}
			b.Logf("%d timers waiting %s before the first is due", timers, time.Until(start).Round(time.Second))
			// A closed loop of other runs, enqueued by 16 feeders (one alone
			// waits for each enqueue's commit): enough pending that the
			// workers never idle.
			stop := make(chan struct{})
			var feeder sync.WaitGroup
			var enqueued atomic.Int64
			for range 16 {
				feeder.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						if enqueued.Load()-others.Load() > 512 {
							time.Sleep(2 * time.Millisecond)
							continue
						}
						if _, err := other.Enqueue(ctx, client, int(enqueued.Add(1))); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			measure := func(d time.Duration) float64 {
				before := others.Load()
				time.Sleep(d)
				return float64(others.Load()-before) / d.Seconds()
			}
			time.Sleep(2 * time.Second) // the load reaches its pace
			baseline := measure(min(time.Until(start)-time.Second, 20*time.Second))
			time.Sleep(time.Until(start))
			loaded := measure(window)
			for resumed.Load() < int64(timers) && time.Since(start) < 3*window {
				time.Sleep(50 * time.Millisecond)
			}
			close(stop)
			feeder.Wait()
			stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
			_ = client.Stop(stopCtx)
			cancel()
			_ = st.Close()
			slices.Sort(lags)
			late := 0
			for _, lag := range lags {
				if lag > time.Second {
					late++
				}
			}
			b.ReportMetric(float64(len(lags)), "timers_fired")
			b.ReportMetric(float64(percentile(lags, 50).Milliseconds()), "lag_p50_ms")
			b.ReportMetric(float64(percentile(lags, 99).Milliseconds()), "lag_p99_ms")
			b.ReportMetric(float64(lags[len(lags)-1].Milliseconds()), "lag_max_ms")
			b.ReportMetric(float64(late), "timers_over_1s_late")
			b.ReportMetric(baseline, "other_runs/s_alone")
			b.ReportMetric(loaded, "other_runs/s_with_timers")
		}
	})
}

// BenchmarkSignalLatency: runs wait for a signal; each is sent over HTTP
// (POST /api/v1/runs/{id}/signals/{name}) to a server whose client also
// runs the workers, and timed until the run resumes past its wait. It
// reports the p50 and p99 of that latency.
func BenchmarkSignalLatency(b *testing.B) {
	const waiting = 200
	benchStores(b, func(b *testing.B, open func() store.Store) {
		st := open()
		defer st.Close()
		resumedAt := make(map[string]chan time.Time, waiting)
		var mu sync.Mutex
		channelOf := func(id string) chan time.Time {
			mu.Lock()
			defer mu.Unlock()
			if resumedAt[id] == nil {
				resumedAt[id] = make(chan time.Time, 1)
			}
			return resumedAt[id]
		}
		pay := klaxon.NewWorkflow("pay", func(ctx context.Context, _ int) (int, error) {
			amount, err := klaxon.WaitForSignal[int](ctx, "payment")
			if err != nil {
				return 0, err
			}
			return klaxon.Step(ctx, "resumed", func(ctx context.Context) (int, error) {
				info, _ := klaxon.StepInfoFrom(ctx)
				channelOf(info.RunID) <- time.Now()
				return amount, nil
			})
		})
		client, err := klaxon.NewClient(st, &klaxon.Config{Concurrency: 64})
		if err != nil {
			b.Fatal(err)
		}
		if err := client.Register(pay); err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		if err := client.Start(ctx); err != nil {
			b.Fatal(err)
		}
		defer client.Stop(ctx)
		server, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client})
		if err != nil {
			b.Fatal(err)
		}
		ts := httptest.NewServer(server.Handler())
		defer ts.Close()
		api := klaxonhttp.NewClient(ts.URL, "", ts.Client())

		var latencies []time.Duration
		for b.Loop() {
			b.StopTimer()
			ids := make([]string, waiting)
			for i := range ids {
				result, err := pay.Enqueue(ctx, client, i)
				if err != nil {
					b.Fatal(err)
				}
				ids[i] = result.Run.ID
			}
			for _, id := range ids {
				for {
					run, err := client.Run(ctx, id)
					if err != nil {
						b.Fatal(err)
					}
					if run.Status == klaxontype.RunStatusWaiting {
						break
					}
					time.Sleep(time.Millisecond)
				}
			}
			b.StartTimer()
			for _, id := range ids {
				sent := time.Now()
				if _, err := api.Signal(ctx, id, "payment", json.RawMessage(`12`), ""); err != nil {
					b.Fatal(err)
				}
				select {
				case at := <-channelOf(id):
					latencies = append(latencies, at.Sub(sent))
				case <-time.After(30 * time.Second):
					b.Fatalf("run %s did not resume within 30s of its signal", id)
				}
			}
		}
		slices.Sort(latencies)
		b.ReportMetric(float64(percentile(latencies, 50).Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(percentile(latencies, 99).Microseconds())/1000, "p99_ms")
		b.ReportMetric(0, "ns/op")
		fmt.Fprintf(os.Stderr, "%s: %d signals, p50 %s, p99 %s\n", b.Name(), len(latencies), percentile(latencies, 50), percentile(latencies, 99))
	})
}

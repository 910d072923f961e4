package klaxon_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/postgres/pgtest"
)

// rateLimitWorkerRole is a process working the runs of "limited-call" on the
// PostgreSQL database at KLAXON_TEST_DB until killed: each run is one step
// drawing on the limit "bench/100rps", which prints "call UNIXNANO" as it
// runs. It works 100 runs at once: a step holds its slot while it waits
// for its reservation (up to about 3 s with 300 in flight), so fewer slots
// would cap the rate below the limit, measuring the workers, not the limit.
const rateLimitWorkerRole = "rate-limit-worker"

func rateLimitedWorkflow(out func(time.Time)) *klaxon.Workflow[int, int] {
	return klaxon.NewWorkflow("limited-call", func(ctx context.Context, n int) (int, error) {
		return klaxon.Step(ctx, "call", func(ctx context.Context) (int, error) {
			out(time.Now())
			return n, nil
		}, klaxon.DrawOn("bench/100rps", 0))
	})
}

func runRateLimitWorker() int {
	ctx := context.Background()
	st, err := postgres.Open(ctx, os.Getenv("KLAXON_TEST_DB"), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	var mu sync.Mutex
	wf := rateLimitedWorkflow(func(at time.Time) {
		mu.Lock()
		fmt.Printf("call %d\n", at.UnixNano())
		mu.Unlock()
	})
	client, err := klaxon.NewClient(st, &klaxon.Config{Concurrency: 100, PollInterval: 50 * time.Millisecond, ScheduleInterval: -1})
	if err == nil {
		err = client.Register(wf)
	}
	if err == nil {
		err = client.Start(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("working")
	select {}
}

// TestRateLimitSharedByThreeProcessesPostgres is the benchmark: a
// limit of 100 requests/s shared by 3 worker processes on PostgreSQL, with
// far more runs waiting than it grants, is held within 5% over a minute. It
// takes over a minute, so it runs only with KLAXON_RATELIMIT_BENCH=1 (and
// KLAXON_TEST_POSTGRES_URL); KLAXON_RATELIMIT_BENCH_SECONDS changes the
// window.
func TestRateLimitSharedByThreeProcessesPostgres(t *testing.T) {
	if os.Getenv("KLAXON_RATELIMIT_BENCH") == "" {
		t.Skip("over a minute long: set KLAXON_RATELIMIT_BENCH=1 (and KLAXON_TEST_POSTGRES_URL) to run it")
	}
	seconds := 60
	if given := os.Getenv("KLAXON_RATELIMIT_BENCH_SECONDS"); given != "" {
		if _, err := fmt.Sscan(given, &seconds); err != nil {
			t.Fatal(err)
		}
	}
	const rate = 100
	url := pgtest.SchemaURL(t, "klaxon_ratelimits_")
	st, err := postgres.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	client, err := klaxon.NewClient(st, &klaxon.Config{ScheduleInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Register(rateLimitedWorkflow(func(time.Time) {})); err != nil {
		t.Fatal(err)
	}
	if err := client.DeclareRateLimits(t.Context(), klaxon.RateLimit{Key: "bench/100rps", Requests: rate, Per: time.Second}); err != nil {
		t.Fatal(err)
	}
	// More runs than the window can grant: the limit, not the backlog,
	// decides the rate.
	backlog := rate*(seconds+10) + 1000
	var wg sync.WaitGroup
	for worker := range 16 {
		wg.Go(func() {
			for i := worker; i < backlog; i += 16 {
				if _, err := client.Enqueue(t.Context(), "limited-call", []byte(strconv.Itoa(i))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var children []*childProcess
	for range 3 {
		children = append(children, startChild(t, rateLimitWorkerRole, url, ""))
	}
	// Each process's lines are read as they come: a full pipe would stall
	// its steps.
	lines := make([][]string, len(children))
	var readers sync.WaitGroup
	for i, child := range children {
		if line := <-child.lines; line != "working" {
			t.Fatalf("a worker process said %q", line)
		}
		readers.Go(func() {
			for line := range child.lines {
				lines[i] = append(lines[i], line)
			}
		})
	}
	// The window starts once every process works, a few seconds in, so
	// that the burst of a full budget at the start is not counted as rate.
	start := time.Now().Add(3 * time.Second)
	end := start.Add(time.Duration(seconds) * time.Second)
	time.Sleep(time.Until(end.Add(500 * time.Millisecond)))
	var calls []time.Time
	perProcess := make([]int, len(children))
	for _, child := range children {
		_ = child.cmd.Process.Signal(syscall.SIGKILL)
		_ = child.cmd.Wait()
	}
	readers.Wait()
	for i := range children {
		for _, line := range lines[i] {
			var nanos int64
			if _, err := fmt.Sscanf(line, "call %d", &nanos); err == nil {
				at := time.Unix(0, nanos)
				if !at.Before(start) && at.Before(end) {
					calls = append(calls, at)
					perProcess[i]++
				}
			}
		}
	}
	sort.Slice(calls, func(i, j int) bool { return calls[i].Before(calls[j]) })
	// The busiest second of the window, for the report.
	busiest := 0
	for i, j := 0, 0; i < len(calls); i++ {
		for calls[i].Sub(calls[j]) >= time.Second {
			j++
		}
		busiest = max(busiest, i-j+1)
	}
	measured := float64(len(calls)) / float64(seconds)
	t.Logf("3 processes, %d s: %d calls, %.2f/s against a limit of %d/s (%+.2f%%); per process %v; busiest second %d",
		seconds, len(calls), measured, rate, (measured/rate-1)*100, perProcess, busiest)
	if measured > rate*1.05 || measured < rate*0.95 {
		t.Errorf("measured %.2f calls/s; want %d/s within 5%%", measured, rate)
	}
}

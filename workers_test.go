package klaxon_test

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
)

// A Go worker is in the workers registry as a worker of another language
// is: its language, SDK version, runtime and workflows, and a last-seen time
// its heartbeat keeps fresh.
func TestStartRecordsTheGoWorker(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	noop := func(ctx context.Context, _ struct{}) (string, error) { return "", nil }
	config := fastConfig()
	config.WorkerID = "go-worker-1"
	config.LeaseDuration, config.HeartbeatInterval = time.Second, 20*time.Millisecond
	client := startClient(t, st, config, klaxon.NewWorkflow("summarize", noop), klaxon.NewWorkflow("classify", noop))

	workers, err := client.Workers(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(workers) != 1 {
		t.Fatalf("listed %d workers; want the client's", len(workers))
	}
	w := workers[0]
	// Tests run without module version information: devel.
	if w.ID != "go-worker-1" || w.Language != "go" || w.SDKVersion != "devel" || w.Runtime != runtime.Version() ||
		!slices.Equal(w.Workflows, []string{"classify", "summarize"}) {
		t.Fatalf("worker %+v; want go-worker-1, go devel on %s, hosting classify and summarize", w, runtime.Version())
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		seen, err := client.Workers(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if seen[0].LastSeenAt.After(w.LastSeenAt) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("last seen still %v after 5s of heartbeats every 20ms", seen[0].LastSeenAt)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

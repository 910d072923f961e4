package klaxon_test

import (
	"context"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// A workflow body that ignores its context is abandoned at its run timeout: a
// hung body cannot hold its run forever.
func TestRunTimeoutAbandonsHungBody(t *testing.T) {
	st := openStore(t)
	release := make(chan struct{})
	defer close(release)
	wf := klaxon.NewWorkflow("hangs", func(ctx context.Context, _ struct{}) (string, error) {
		<-release // ignores ctx, outside any step
		return "late", nil
	}, klaxon.RunTimeout(100*time.Millisecond), fastRetry)
	client := startClient(t, st, nil, wf)
	result, err := wf.Enqueue(context.Background(), client, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	run, _ := client.Run(context.Background(), result.Run.ID)
	t.Logf("1.5s after enqueue, with RunTimeout 100ms: status %s attempt %d", run.Status, run.Attempt)
	if run.Status == klaxontype.RunStatusRunning {
		t.Fatalf("run still running 15x past its RunTimeout; the hung body is not abandoned")
	}
}

package klaxon_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// A step failure whose message holds a NUL byte or invalid UTF-8 (a
// provider's error body can say anything) is recorded like any other, on
// both stores: a permanent failure ends the run at attempt 1 with its
// reason, the unstorable bytes replaced by U+FFFD. Before, PostgreSQL refused
// the text, the outcome was never recorded, and the step ran again until the
// run died as a lost worker.
func TestUnstorableFailureTextIsRecorded(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]sharedStores{"SQLite": sqliteShared, "PostgreSQL": postgresShared} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st, _ := open(t)
			var calls atomic.Int32
			workflow := klaxon.NewWorkflow("hostile-text", func(ctx context.Context, _ int) (int, error) {
				return klaxon.Step(ctx, "call", func(context.Context) (int, error) {
					calls.Add(1)
					return 0, klaxon.Permanent(errors.New("upstream said: bad\x00byte \xff\xfe end"))
				})
			}, klaxon.WithRetryPolicy(klaxontype.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}))
			config := fastConfig()
			config.LeaseDuration = time.Second
			client, err := klaxon.NewClient(st, config)
			if err != nil {
				t.Fatal(err)
			}
			if err := client.Register(workflow); err != nil {
				t.Fatal(err)
			}
			if err := client.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = client.Stop(ctx)
			})
			result, err := client.Enqueue(context.Background(), workflow.Name(), []byte("0"))
			if err != nil {
				t.Fatal(err)
			}
			run := awaitRun(t, client, result.Run.ID)
			if run.Status != klaxontype.RunStatusDead || run.Failure == nil || run.Failure.Class != klaxontype.ClassPermanent || run.Attempt != 1 {
				t.Fatalf("run %s at attempt %d with failure %+v; want dead, permanent, at attempt 1", run.Status, run.Attempt, run.Failure)
			}
			const want = "upstream said: bad\uFFFDbyte \uFFFD end"
			if !strings.Contains(run.Failure.Reason, want) {
				t.Errorf("reason %q does not carry %q", run.Failure.Reason, want)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("the step ran %d times; a permanent failure runs once", n)
			}
			attempts, err := st.AttemptList(context.Background(), run.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(attempts) != 1 || !strings.Contains(attempts[0].Message, want) {
				t.Errorf("attempts %+v; want one carrying %q", attempts, want)
			}
		})
	}
}

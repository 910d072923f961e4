package engine

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// rawCode is the code of a step whose output is produced elsewhere (as a
// remote worker's is) or fixed: the output is taken as it is.
type rawCode struct {
	output     []byte
	compensate func(context.Context) error
}

func (c *rawCode) Execute(context.Context) ([]byte, error) { return c.output, nil }
func (c *rawCode) Decode(output []byte) error              { c.output = output; return nil }
func (c *rawCode) Validate() error                         { return nil }
func (c *rawCode) OutputSchema() []byte                    { return nil }

func (c *rawCode) Compensate(ctx context.Context) error {
	if c.compensate == nil {
		return nil
	}
	return c.compensate(ctx)
}

// A hook that panics reports on what already happened: the run it reports on
// ends as it would without the hook, and the worker goes on.
func TestPanickingHooksChangeNothing(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	definition := &Definition{
		Name: "hooked",
		Execute: func(ctx context.Context, _ []byte) ([]byte, error) {
			if _, err := Step(ctx, StepCall{Name: "fetch", Code: &rawCode{output: []byte(`"page"`)}}); err != nil {
				return nil, err
			}
			return []byte(`"done"`), nil
		},
	}
	for _, id := range []string{"01HOOKED1", "01HOOKED2"} {
		if _, _, err := st.RunEnqueue(context.Background(), &store.RunEnqueueParams{ID: id, Workflow: "hooked", Input: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	var attempts atomic.Int32
	startWorker(t, Config{NewID: testID, Store: st, ID: "hooked", LeaseDuration: time.Second,
		Workflows: map[string]*Definition{"hooked": definition},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnStep:    func(*klaxontype.StepOutcome) { panic("OnStep hook bug") },
		OnAttempt: func(*klaxontype.AttemptOutcome) {
			attempts.Add(1)
			panic("OnAttempt hook bug")
		},
	})
	for _, id := range []string{"01HOOKED1", "01HOOKED2"} {
		run := awaitStatus(t, st, id, klaxontype.RunStatusCompleted)
		if string(run.Output) != `"done"` {
			t.Fatalf("run %s output %s", id, run.Output)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); attempts.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := attempts.Load(); n != 2 {
		t.Fatalf("OnAttempt was called %d times, want 2", n)
	}
}

package dashboard_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/sqlite"
)

// TestRunPageShowsARateLimitWait shows, on a run's step timeline, how long
// a step waited for its rate limit before it ran.
func TestRunPageShowsARateLimitWait(t *testing.T) {
	needChromium(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A worker of its own runs two steps under a limit of one a second, and
	// stops before the site's starts.
	limited := klaxon.NewWorkflow("limited", func(ctx context.Context, _ int) (int, error) {
		for _, name := range []string{"first", "second"} {
			if _, err := klaxon.Step(ctx, name, func(context.Context) (int, error) { return 1, nil }, klaxon.DrawOn("acme/model", 0)); err != nil {
				return 0, err
			}
		}
		return 2, nil
	})
	worker, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 20 * time.Millisecond, ShutdownGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.DeclareRateLimits(ctx, klaxon.RateLimit{Key: "acme/model", Requests: 1, Per: time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := worker.Register(limited); err != nil {
		t.Fatal(err)
	}
	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	enqueued, err := worker.Enqueue(ctx, "limited", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	awaitCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if run, err := worker.AwaitRun(awaitCtx, enqueued.Run.ID); err != nil || run.Status != "completed" {
		t.Fatalf("run %+v (%v)", run, err)
	}
	if err := worker.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	s := newSite(t, st)
	tab := s.browser()
	s.signIn(tab, readSecret)
	s.open(tab, "#/runs/"+enqueued.Run.ID)
	s.waitText(tab, `#step-timeline tr[data-step="second"]`, "for its rate limit")
	s.screenshot(tab, "run-rate-limit-wait")
}

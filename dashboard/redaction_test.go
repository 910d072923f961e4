package dashboard_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// TestRunPageMasksRedactedValuesBelowAdmin: the dashboard reads the API with
// the viewer's token, so a read token's run page shows a redacted workflow's
// email and API key as [redacted], and an admin's shows them.
func TestRunPageMasksRedactedValuesBelowAdmin(t *testing.T) {
	needChromium(t)
	const email, key = "ada@example.com", "sk-ABCDEFGHIJKLMNOPQRSTUVWX"
	s := newSite(t, nil)
	type signup struct {
		Email string `json:"email"`
		Key   string `json:"key"`
	}
	wf := klaxon.NewWorkflow("signup", func(ctx context.Context, in signup) (signup, error) {
		return klaxon.Step(ctx, "welcome", func(context.Context) (signup, error) { return in, nil })
	}, klaxon.Redact("$.email"), klaxon.RedactPattern(regexp.MustCompile(`sk-[A-Za-z0-9]{20,}`)))
	worker, err := klaxon.NewClient(s.store, &klaxon.Config{PollInterval: 20 * time.Millisecond, ShutdownGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.Register(wf); err != nil {
		t.Fatal(err)
	}
	if err := worker.Start(s.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = worker.Stop(context.Background()) })
	enqueued, err := wf.Enqueue(s.ctx, worker, signup{Email: email, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	id := enqueued.Run.ID
	s.eventually(10*time.Second, func() error {
		if run, _ := worker.Run(s.ctx, id); run.Status != klaxontype.RunStatusCompleted {
			return fmt.Errorf("run is %s, not completed", run.Status)
		}
		return nil
	})

	reader := s.browser()
	s.signIn(reader, readSecret)
	s.open(reader, "#/runs/"+id)
	s.waitText(reader, "#run-input", klaxon.RedactionMarker)
	if page := s.text(reader, "body"); strings.Contains(page, email) || strings.Contains(page, key) {
		t.Errorf("a read token's run page shows a redacted value: %s", page)
	}

	admin := s.browser()
	s.signIn(admin, adminSecret)
	s.open(admin, "#/runs/"+id)
	s.waitText(admin, "#run-input", email)
	if page := s.text(admin, "#run-input"); !strings.Contains(page, key) {
		t.Errorf("an admin's run page does not show the key: %s", page)
	}
}

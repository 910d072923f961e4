package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// TestOperatorDecidesAnApproval: a run waits for a person's approval; a read
// token sees the request in the inbox without buttons and is refused if it
// decides anyway; an operator approves it with a comment, the run goes on
// and its page shows the wait, decided by the operator.
func TestOperatorDecidesAnApproval(t *testing.T) {
	needChromium(t)
	s := newSite(t, nil)
	refund := klaxon.NewWorkflow("refund", func(ctx context.Context, amount int) (string, error) {
		decision, err := klaxon.AwaitApproval(ctx, "refund", klaxon.ApprovalRequest{
			Title: "Refund 120 EUR?", Body: "The parcel arrived damaged.", Data: map[string]int{"amount": amount},
		})
		if err != nil {
			return "", err
		}
		return decision.Decision() + " by " + decision.By + ": " + decision.Comment, nil
	})
	waiter, err := klaxon.NewClient(s.store, &klaxon.Config{PollInterval: 20 * time.Millisecond, ShutdownGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := waiter.Register(refund); err != nil {
		t.Fatal(err)
	}
	if err := waiter.Start(s.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = waiter.Stop(context.Background()) })
	enqueued, err := refund.Enqueue(s.ctx, waiter, 120, klaxon.WithEntity("order_id", "42"))
	if err != nil {
		t.Fatal(err)
	}
	id := enqueued.Run.ID
	s.eventually(10*time.Second, func() error {
		if run, _ := waiter.Run(s.ctx, id); run.Status != klaxontype.RunStatusWaiting {
			return fmt.Errorf("run is %s, not waiting", run.Status)
		}
		return nil
	})

	tab := s.browser()
	s.signIn(tab, readSecret)
	s.open(tab, "#/approvals")
	s.waitText(tab, `#approvals-table tr[data-run="`+id+`"]`, "Refund 120 EUR?")
	if got := s.text(tab, `#approvals-table tr[data-run="`+id+`"]`); !strings.Contains(got, "order_id=42") || !strings.Contains(got, "parcel arrived damaged") {
		t.Errorf("the inbox row reads %q; want the request with its run's context", got)
	}
	if n := s.count(tab, "button[data-decision]"); n != 0 {
		t.Errorf("a read token sees %d decision buttons", n)
	}
	if status := s.fetchStatus(tab, http.MethodPost, "/api/v1/runs/"+id+"/approvals/refund", readSecret, `{"decision":"approve"}`); status != http.StatusForbidden {
		t.Errorf("a read token's decision got %d; want 403", status)
	}

	s.do(tab, "sign out", chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#login-token")))
	s.signIn(tab, operateSecret)
	s.open(tab, "#/approvals")
	s.waitElement(tab, `button[data-decision="approve"][data-run="`+id+`"]`)
	s.screenshot(tab, "approvals-inbox")
	s.do(tab, "ask to approve", chromedp.Click(chromedp.CSS(`button[data-decision="approve"][data-run="`+id+`"]`)))
	s.waitElement(tab, "#dialog[open]")
	s.do(tab, "comment and approve",
		chromedp.SendKeys(chromedp.CSS(`#dialog textarea[name=comment]`), "checked the photos"),
		chromedp.Click(chromedp.CSS("#dialog-ok")))
	s.waitText(tab, "#notice", "the run goes on")
	s.eventually(10*time.Second, func() error {
		run, _ := waiter.Run(s.ctx, id)
		if run.Status != klaxontype.RunStatusCompleted {
			return fmt.Errorf("run is %s, not completed", run.Status)
		}
		if string(run.Output) != `"approved by operator: checked the photos"` {
			return fmt.Errorf("output %s", run.Output)
		}
		return nil
	})
	s.waitText(tab, "#approvals-list", "No run waits for a decision")
	s.open(tab, "#/runs/"+id)
	s.waitText(tab, `#waits-table tr[data-wait="refund"]`, "operator")
	s.screenshot(tab, "run-after-approval")
}

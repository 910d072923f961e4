package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/cmd/klaxon/demo"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// TestOperatorWorksTheDashboard signs in with an operate token, watches a
// demo run appear and opens its step timeline, replays a filtered set of
// dead-letter entries after a dry-run count, and resolves an entry with an
// output, checking each result in the store.
func TestOperatorWorksTheDashboard(t *testing.T) {
	needChromium(t)
	s := newSite(t, nil)
	tab := s.browser()
	s.signIn(tab, operateSecret)
	if got := s.text(tab, "#who"); !strings.Contains(got, "operator") || !strings.Contains(got, "operate") {
		t.Fatalf("the header says %q; want the token's name and scope", got)
	}

	// A demo starts while the overview is open: its workflow and runs
	// appear without a reload.
	demoCtx, stopDemo := context.WithCancel(context.Background())
	demoDone := make(chan error, 1)
	go func() {
		_, err := demo.Run(demoCtx, s.store, demo.Options{Runs: 4, Concurrency: 4, ExitWhenDone: true, Seed: 11, Progress: io.Discard})
		demoDone <- err
	}()
	t.Cleanup(func() { stopDemo(); <-demoDone })
	s.waitFor(tab, "the demo's runs on the overview",
		`(() => { const row = document.querySelector('#runs-by-status tr[data-workflow="process-document"]');
			return !!row && [...row.querySelectorAll('td a')].length > 0; })()`)
	s.checkOverviewPanels(tab)
	s.screenshot(tab, "overview")

	// The demo's runs, and one run's page with its step timeline.
	s.open(tab, "#/runs?workflow=process-document")
	s.waitElement(tab, `#runs-table tr[data-run]`)
	s.screenshot(tab, "runs")
	s.do(tab, "open a run", chromedp.Click(chromedp.CSS(`#runs-table tr[data-run] a`)))
	s.waitElement(tab, `#step-timeline tr[data-step="extract"]`)
	if got := s.text(tab, `#step-timeline tr[data-step="extract"]`); !strings.Contains(got, "executed in attempt") {
		t.Errorf("the extract step's row says %q; want where it executed", got)
	}
	for _, section := range []string{"#run-facts", "#manifest", "#run-input", "#events-table"} {
		if s.count(tab, section) != 1 {
			t.Errorf("the run page has no %s", section)
		}
	}
	if got := s.text(tab, "#events-table"); !strings.Contains(got, "run.enqueued") {
		t.Errorf("the event log says %q; want run.enqueued", got)
	}
	// The worker that worked the run, with the language and SDK version it
	// registered (a Go worker built by go test: devel).
	s.waitText(tab, "#run-worker", "go devel")
	s.screenshot(tab, "run")
	// Key 5 opens the workers registry: the demo's worker and the site's.
	s.do(tab, "press 5", chromedp.KeyEvent("5"))
	s.waitElement(tab, "#workers-table tr[data-worker]")
	if got := s.text(tab, "#workers-table"); !strings.Contains(got, "go") || !strings.Contains(got, "charge") || !strings.Contains(got, "process-document") {
		t.Errorf("the workers page says %q; want the Go workers and their workflows", got)
	}
	s.screenshot(tab, "workers")

	// Bulk replay of a filtered set: 12 dead charges of batch b1; batch b2
	// must stay untouched.
	s.deadCharges(12, "b1")
	kept := s.deadCharges(3, "b2")
	// Key 3 opens the dead-letter queue; / focuses its first filter.
	s.do(tab, "press 3", chromedp.KeyEvent("3"))
	s.waitElement(tab, "#dlq-table")
	s.do(tab, "press /", chromedp.KeyEvent("/"))
	if focused := run(s, tab, "read the focus", chromedp.Evaluate[string](`document.activeElement.name || ''`)); focused != "class" {
		t.Errorf("after /, the focus is on %q; want the class filter", focused)
	}
	s.do(tab, "filter the queue",
		chromedp.SetValue(chromedp.CSS(`#dlq-filter input[name=workflow]`), "charge"),
		chromedp.SetValue(chromedp.CSS(`#dlq-filter input[name=entity]`), "batch=b1"),
		chromedp.Click(chromedp.CSS(`#dlq-filter button[type=submit]`)),
	)
	s.waitText(tab, "#dlq-total", "12")
	s.waitText(tab, "#replay-matching", "Replay all 12 matching")
	s.screenshot(tab, "dlq-filtered")
	s.do(tab, "ask for a bulk replay", chromedp.Click(chromedp.CSS("#replay-matching")))
	s.waitText(tab, "#dry-run-count", "12 open entries match")
	s.screenshot(tab, "dlq-bulk-dry-run")
	s.do(tab, "confirm the bulk replay", chromedp.Click(chromedp.CSS("#dialog-ok")))
	s.waitText(tab, "#notice", "Replayed 12 of 12 matching entries")
	s.screenshot(tab, "dlq-bulk-replayed")
	replayed := s.entries(store.DLQListParams{Entities: map[string]string{"batch": "b1"}, States: []klaxontype.DeadLetterState{klaxontype.DeadLetterReplayed}})
	if len(replayed) != 12 {
		t.Fatalf("%d entries of batch b1 replayed; want 12", len(replayed))
	}
	for _, entry := range replayed {
		if entry.ClosedBy != "operator" {
			t.Errorf("entry %s replayed by %q; want the token's name, operator", entry.ID, entry.ClosedBy)
		}
	}
	if open := s.entries(store.DLQListParams{Entities: map[string]string{"batch": "b2"}, States: []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}}); len(open) != 3 {
		t.Fatalf("%d entries of batch b2 open after replaying b1; want 3", len(open))
	}

	// A page of selected entries: the dry run counts them, then they are
	// replayed; one selected entry is discarded with a reason.
	s.deadCharges(2, "b3")
	discard := s.deadCharges(1, "b4")[0]
	s.open(tab, "#/dlq?workflow=charge&entity=batch%3Db3&state=open")
	s.waitText(tab, "#dlq-total", "2")
	s.do(tab, "select the page", chromedp.Click(chromedp.CSS("#select-page")), chromedp.Click(chromedp.CSS(`[data-action="replay-selected"]`)))
	s.waitText(tab, "#dry-run-count", "2 can be replayed")
	s.do(tab, "confirm the replay", chromedp.Click(chromedp.CSS("#dialog-ok")))
	s.waitText(tab, "#notice", "Replayed 2 of 2 entries")
	if n := len(s.entries(store.DLQListParams{Entities: map[string]string{"batch": "b3"}, States: []klaxontype.DeadLetterState{klaxontype.DeadLetterReplayed}})); n != 2 {
		t.Fatalf("%d entries of batch b3 replayed; want 2", n)
	}
	s.open(tab, "#/dlq?workflow=charge&entity=batch%3Db4&state=open")
	s.waitElement(tab, `input[name=entry][value="`+discard.ID+`"]`)
	s.do(tab, "select one entry", chromedp.Click(chromedp.CSS(`input[name=entry][value="`+discard.ID+`"]`)), chromedp.Click(chromedp.CSS(`[data-action="discard-selected"]`)))
	s.do(tab, "give a reason", chromedp.SendKeys(chromedp.CSS(`#dialog-body input[name=reason]`), "refunded by hand\r"))
	s.waitText(tab, "#notice", "Discarded 1 of 1 entries")
	if got := s.entry(discard.ID); got.State != klaxontype.DeadLetterDiscarded || got.CloseReason != "refunded by hand" || got.ClosedBy != "operator" {
		t.Fatalf("entry %s is %s by %q because %q; want discarded by operator, refunded by hand", got.ID, got.State, got.ClosedBy, got.CloseReason)
	}

	// Everything matching a filter discarded, after its dry-run count.
	s.deadCharges(4, "b5")
	s.open(tab, "#/dlq?workflow=charge&entity=batch%3Db5&state=open")
	s.waitText(tab, "#dlq-total", "4")
	s.do(tab, "ask for a bulk discard", chromedp.Click(chromedp.CSS("#discard-matching")))
	s.waitText(tab, "#dry-run-count", "4 open entries match")
	s.screenshot(tab, "dlq-bulk-discard-dry-run")
	if n := len(s.entries(store.DLQListParams{Entities: map[string]string{"batch": "b5"}, States: []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}})); n != 4 {
		t.Fatalf("%d entries of batch b5 open after the dry run; want 4", n)
	}
	s.do(tab, "give the bulk discard a reason", chromedp.SendKeys(chromedp.CSS(`#dialog-body input[name=reason]`), "duplicate batch\r"))
	s.waitText(tab, "#notice", "Discarded 4 of 4 matching entries")
	discarded := s.entries(store.DLQListParams{Entities: map[string]string{"batch": "b5"}, States: []klaxontype.DeadLetterState{klaxontype.DeadLetterDiscarded}})
	if len(discarded) != 4 {
		t.Fatalf("%d entries of batch b5 discarded; want 4", len(discarded))
	}
	for _, entry := range discarded {
		if entry.ClosedBy != "operator" || entry.CloseReason != "duplicate batch" {
			t.Errorf("entry %s discarded by %q because %q; want operator, duplicate batch", entry.ID, entry.ClosedBy, entry.CloseReason)
		}
	}

	// One entry replayed with an edited input, after its dry run's plan.
	edited := kept[1]
	s.open(tab, "#/dlq/"+edited.ID)
	s.waitElement(tab, "#replay-form")
	s.do(tab, "edit the input", chromedp.SetValue(chromedp.CSS(`#replay-form textarea[name=input]`), "555"),
		chromedp.Click(chromedp.CSS(`#replay-form button[type=submit]`)))
	s.waitText(tab, "#dry-run-count", "with the edited input")
	s.screenshot(tab, "dlq-replay-plan")
	s.do(tab, "confirm the replay", chromedp.Click(chromedp.CSS("#dialog-ok")))
	s.waitText(tab, "#notice", "replayed")
	if run, err := s.store.RunGet(s.ctx, edited.RunID); err != nil || string(run.Input) != "555" {
		t.Fatalf("run %s after the replay: %v, input %s; want the edited input 555", edited.RunID, err, run.Input)
	}

	// Resolve one entry: output that is not JSON, then JSON of the wrong
	// shape, are refused in the page; a wrong step by the server; then a
	// good output is sent and the run completes with it.
	entry := kept[0]
	s.open(tab, "#/dlq/"+entry.ID)
	s.waitElement(tab, "#resolve-form")
	s.resolve(tab, "charge", `{"id": `, "is not JSON")
	s.resolve(tab, "charge", `{"id": 5}`, "$.id is integer, want string")
	s.resolve(tab, "refund", `{"id": "r-1"}`, "The server refused the output")
	s.screenshot(tab, "dlq-resolve-refused")
	if got := s.entry(entry.ID); got.State != klaxontype.DeadLetterOpen {
		t.Fatalf("entry %s is %s after refused outputs; want open", entry.ID, got.State)
	}
	s.do(tab, "type a good output",
		chromedp.SetValue(chromedp.CSS(`#resolve-form input[name=step]`), "charge"),
		chromedp.SetValue(chromedp.CSS(`#resolve-form textarea[name=output]`), `{"id": "r-1"}`),
		chromedp.Click(chromedp.CSS(`#resolve-form button[type=submit]`)),
	)
	s.waitText(tab, "#notice", "resolved")
	s.waitText(tab, "h1", "resolved")
	s.screenshot(tab, "dlq-resolved")
	s.eventually(10*time.Second, func() error {
		run, err := s.store.RunGet(s.ctx, entry.RunID)
		if err != nil {
			return err
		}
		if run.Status != klaxontype.RunStatusCompleted || string(run.Output) != `{"id":"r-1"}` {
			return fmt.Errorf("run %s is %s with output %s; want completed with the resolved receipt", run.ID, run.Status, run.Output)
		}
		return nil
	})

	s.checkAlerts(tab)
}

// TestReadTokenSeesNoActions signs in with a read token: the pages show no
// action, and the API refuses the action anyway when the page is bypassed.
func TestReadTokenSeesNoActions(t *testing.T) {
	needChromium(t)
	s := newSite(t, nil)
	entry := s.deadCharges(1, "r1")[0]
	tab := s.browser()
	s.signIn(tab, readSecret)
	if got := s.text(tab, "#who"); !strings.Contains(got, "reader") || !strings.Contains(got, "read") {
		t.Fatalf("the header says %q; want the token's name and scope", got)
	}
	s.open(tab, "#/dlq")
	s.waitElement(tab, `#dlq-table tr[data-entry="`+entry.ID+`"]`)
	s.screenshot(tab, "read-dlq")
	for _, selector := range []string{"[data-action]", "#dlq-actions", "input[name=entry]", "#select-page"} {
		if n := s.count(tab, selector); n != 0 {
			t.Errorf("a read token sees %d %s on the dead-letter page", n, selector)
		}
	}
	s.open(tab, "#/dlq/"+entry.ID)
	s.waitElement(tab, "#entry-facts")
	s.screenshot(tab, "read-entry")
	for _, selector := range []string{"[data-action]", "#replay-form", "#resolve-form", "#discard-form", "main button.primary", "main button.danger"} {
		if n := s.count(tab, selector); n != 0 {
			t.Errorf("a read token sees %d %s on an entry's page", n, selector)
		}
	}
	// Acting anyway, from the page, is refused.
	for path, body := range map[string]string{
		"/api/v1/dlq/" + entry.ID + "/replay":  `{}`,
		"/api/v1/dlq/" + entry.ID + "/resolve": `{"step":"charge","output":{"id":"x"}}`,
		"/api/v1/dlq/" + entry.ID + "/discard": `{"reason":"no"}`,
		"/api/v1/dlq/replay":                   `{"all":true}`,
		"/api/v1/dlq/discard":                  `{"all":true,"reason":"x"}`,
	} {
		if status := s.fetchStatus(tab, http.MethodPost, path, readSecret, body); status != http.StatusForbidden {
			t.Errorf("POST %s with the read token: %d; want 403", path, status)
		}
	}
	if got := s.entry(entry.ID); got.State != klaxontype.DeadLetterOpen {
		t.Fatalf("entry %s is %s after a read token's attempts; want open", entry.ID, got.State)
	}
	// Signing out forgets the token.
	s.do(tab, "sign out", chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#login-token")))
	if stored := run(s, tab, "read the session", chromedp.Evaluate[string](`sessionStorage.getItem('klaxon-token') || ''`)); stored != "" {
		t.Errorf("the token is still in the session after signing out")
	}
	s.do(tab, "sign in with a wrong token",
		chromedp.SendKeys(chromedp.CSS("#login-token"), "wrong-secret-0123456789"),
		chromedp.Click(chromedp.CSS("#login-form button[type=submit]")))
	s.waitText(tab, "#login-error", "not one the server knows")
}

// TestAdminResetsABreaker trips the charge workflow's breaker: the overview
// shows it open, an operate token sees no way to reset it, and an admin
// resets it from the overview after confirming, which the store records.
func TestAdminResetsABreaker(t *testing.T) {
	needChromium(t)
	s := newSite(t, nil)
	if _, err := s.store.BreakerTrip(s.ctx, &store.BreakerTripParams{
		Workflow: "charge", Reason: "3 of 4 attempts failed", Until: time.Now().Add(time.Hour), Actor: "test",
	}); err != nil {
		t.Fatal(err)
	}
	tab := s.browser()
	s.signIn(tab, operateSecret)
	s.waitText(tab, "#open-breakers", "3 of 4 attempts failed")
	if n := s.count(tab, `[data-action="reset-breaker"]`); n != 0 {
		t.Errorf("an operate token sees %d reset buttons; resetting is for admins", n)
	}

	s.do(tab, "sign out", chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#login-token")))
	s.signIn(tab, adminSecret)
	s.waitElement(tab, `#open-breakers button[data-action="reset-breaker"][data-workflow="charge"]`)
	s.screenshot(tab, "breaker-open")
	// With no run yet every chart is empty: its axis still reads 0 to its
	// top without a label twice (a count's middle tick of 0.5 used to print
	// as 1, like the top).
	s.waitElement(tab, "#chart-throughput")
	axes := run(s, tab, "read the charts' axes", chromedp.Evaluate[[][]string](`[...document.querySelectorAll('#ov-charts svg')].map(
		(svg) => [...svg.querySelectorAll('text.tick[x="60"]')].map((t) => t.textContent))`))
	for i, labels := range axes {
		seen := map[string]bool{}
		for _, label := range labels {
			if seen[label] {
				t.Errorf("chart %d's axis reads %v: %q twice", i, labels, label)
			}
			seen[label] = true
		}
	}
	if len(axes) != 5 {
		t.Errorf("the overview has %d charts; want 5", len(axes))
	}
	// Cancelling the confirmation leaves the breaker open.
	s.do(tab, "ask to reset", chromedp.Click(chromedp.CSS(`button[data-action="reset-breaker"]`)))
	s.waitElement(tab, "#dialog[open]")
	s.do(tab, "cancel", chromedp.KeyEvent("\x1b"))
	s.waitFor(tab, "the dialog to close", `!document.querySelector('#dialog[open]')`)
	if b := s.breaker("charge"); b == nil || !b.Open {
		t.Fatalf("the breaker is %+v although the reset was cancelled; want open", b)
	}
	s.do(tab, "ask to reset again", chromedp.Click(chromedp.CSS(`button[data-action="reset-breaker"]`)))
	s.waitElement(tab, "#dialog[open]")
	// Enter confirms: the dialog focuses its OK button.
	s.waitFor(tab, "the OK button to have the focus", `document.activeElement && document.activeElement.id === 'dialog-ok'`)
	s.do(tab, "confirm the reset", chromedp.KeyEvent("\r"))
	s.waitText(tab, "#notice", "The breaker of charge is reset")
	s.waitText(tab, "#ov-breakers", "No breaker is open")
	if b := s.breaker("charge"); b == nil || b.Open || b.ResetBy != "root" {
		t.Errorf("after the reset the store has %+v; want closed, reset by root", b)
	}
}

// TestAdminGivesUpNotifications: dead letters wait on a channel no process
// of the site delivers; the overview shows them, an operator cannot give them
// up, an admin does with a reason, which each notification keeps.
func TestAdminGivesUpNotifications(t *testing.T) {
	needChromium(t)
	s := newSite(t, nil)
	entries := s.deadCharges(2, "g1")
	channel := entries[0].Channel
	tab := s.browser()
	s.signIn(tab, operateSecret)
	s.waitText(tab, `#outbox-channels li[data-channel="`+channel+`"]`, "2 waiting")
	if got := s.text(tab, `#outbox-channels li[data-channel="`+channel+`"]`); !strings.Contains(got, "never tried") {
		t.Errorf("the outbox panel says %q; want that no process delivers the channel", got)
	}
	if n := s.count(tab, `[data-action="give-up"]`); n != 0 {
		t.Errorf("an operate token sees %d give-up buttons; giving up is for admins", n)
	}

	s.do(tab, "sign out", chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#login-token")))
	s.signIn(tab, adminSecret)
	button := `#outbox-channels button[data-action="give-up"][data-channel="` + channel + `"]`
	s.waitElement(tab, button)
	s.screenshot(tab, "outbox")
	s.do(tab, "ask to give up", chromedp.Click(chromedp.CSS(button)))
	s.waitElement(tab, "#dialog[open] input[name=reason]")
	s.do(tab, "give the reason and confirm", chromedp.SendKeys(chromedp.CSS("#dialog input[name=reason]"), "the review hook was removed\r"))
	s.waitText(tab, "#notice", "Gave up 2 notifications on "+channel)
	s.waitText(tab, "#ov-outbox", "Every notification was delivered")
	for _, entry := range entries {
		if got := s.entry(entry.ID); len(got.Deliveries) != 1 || got.Deliveries[0].State != klaxontype.DeliveryGivenUp ||
			got.Deliveries[0].LastError != "given up by root: the review hook was removed" {
			t.Errorf("entry %s's notification: %+v; want given up by root with the reason", entry.ID, got.Deliveries)
		}
	}
}

// breaker is the workflow's breaker as the store has it; nil if it never
// tripped.
func (s *site) breaker(workflow string) *klaxontype.Breaker {
	s.t.Helper()
	breakers, err := s.store.BreakerList(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, b := range breakers {
		if b.Workflow == workflow {
			return b
		}
	}
	return nil
}

// resolve types an output into the resolve form and waits for the refusal
// it must cause.
func (s *site) resolve(tab context.Context, step, output, refusal string) {
	s.t.Helper()
	// Filled and sent in one evaluation, on the form as it is then: the page
	// may render the entry again (a refresh) between separate steps, and a
	// node found by one step is gone for the next (seen once in CI). A
	// render that lands after the click wipes the refusal it showed (seen
	// in CI too): the form is then filled and sent again, up to three times.
	send := fmt.Sprintf(`(() => {
		const form = document.querySelector('#resolve-form');
		if (!form) return false;
		form.querySelector('input[name=step]').value = %q;
		form.querySelector('textarea[name=output]').value = %q;
		form.querySelector('button[type=submit]').click();
		return true;
	})()`, step, output)
	shown := fmt.Sprintf(`(() => { const e = document.querySelector('#resolve-error'); return !!e && e.textContent.includes(%q); })()`, refusal)
	for try := 1; try < 3; try++ {
		s.waitFor(tab, "the resolve form, filled and sent", send)
		ctx, cancel := context.WithTimeout(tab, 6*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](shown, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(5*time.Second)))
		cancel()
		if err == nil {
			return
		}
	}
	s.waitFor(tab, "the resolve form, filled and sent", send)
	s.waitText(tab, "#resolve-error", refusal)
}

// checkOverviewPanels checks the overview's charts of GET /api/v1/stats
// once the demo's runs have ended, and its alerts and breakers panels.
func (s *site) checkOverviewPanels(tab context.Context) {
	s.t.Helper()
	for _, chart := range []string{"chart-dlq", "chart-throughput", "chart-cost", "chart-tokens", "chart-retries"} {
		s.waitElement(tab, "#"+chart+" svg polyline, #"+chart+" svg text")
	}
	// The demo's runs end in the current bucket: the charts move without a
	// reload, to a point that is not zero.
	s.waitFor(tab, "finished runs in the throughput chart", `[...document.querySelectorAll('#chart-throughput circle.s-completed title')].some(t => !/: 0$/.test(t.textContent))`)
	s.waitFor(tab, "tokens in the tokens-per-run chart", `[...document.querySelectorAll('#chart-tokens circle title')].some(t => !/: 0$/.test(t.textContent))`)
	s.waitText(tab, "#ov-alerts", "No alert is firing")
	s.waitText(tab, "#ov-breakers", "No breaker is open")
}

// checkAlerts evaluates the built-in alert rules, as klaxon server does
// every 30 seconds: the burst of charge dead letters fires dlq-spike, which
// the overview and the alerts page show with links to its runs.
func (s *site) checkAlerts(tab context.Context) {
	s.t.Helper()
	outcome, err := alert.NewEvaluator(s.store, alert.DefaultConfig(), nil, nil).Evaluate(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	if outcome.Fired == 0 {
		s.t.Fatalf("the built-in rules fired nothing over the charge dead letters: %+v", outcome)
	}
	s.open(tab, "#/")
	s.waitText(tab, "#firing-alerts", "dlq-spike")
	s.waitText(tab, "#firing-alerts", "charge")
	s.waitFor(tab, "dead letters of charge in the chart", `[...document.querySelectorAll('#chart-dlq rect.s-permanent title')].length > 0`)
	s.screenshot(tab, "overview-alert")
	s.open(tab, "#/alerts")
	s.waitElement(tab, `#alerts-table tr[data-alert]`)
	row := s.text(tab, `#alerts-table tr[data-alert]`)
	for _, want := range []string{"firing", "dlq-spike", "dlq_spike", "charge", "permanent"} {
		if !strings.Contains(row, want) {
			s.t.Errorf("the alert's row says %q; want %q in it", row, want)
		}
	}
	if n := s.count(tab, `#alerts-table tr[data-alert] a.run-link`); n == 0 {
		s.t.Fatal("the alert links to none of its runs")
	}
	s.screenshot(tab, "alerts")
	s.do(tab, "open a run behind the alert", chromedp.Click(chromedp.CSS(`#alerts-table a.run-link`)))
	s.waitText(tab, "#run-facts", "charge")
	// The dead run links to its dead-letter entry, where a person acts.
	s.waitElement(tab, `#run-dead-letters a[href^="#/dlq/"]`)
	s.do(tab, "open the run's dead-letter entry", chromedp.Click(chromedp.CSS(`#run-dead-letters a`)))
	s.waitText(tab, "h1", "Entry ")
}

func (s *site) entries(params store.DLQListParams) []*klaxontype.DeadLetter {
	s.t.Helper()
	params.Limit = 1000
	entries, err := s.store.DLQList(s.ctx, &params)
	if err != nil {
		s.t.Fatal(err)
	}
	return entries
}

func (s *site) entry(id string) *klaxontype.DeadLetter {
	s.t.Helper()
	entry, err := s.store.DLQGet(s.ctx, id)
	if err != nil {
		s.t.Fatal(err)
	}
	return entry
}

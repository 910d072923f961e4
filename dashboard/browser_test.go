package dashboard_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/dashboard"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// chromiumPath is where Debian's chromium package installs the browser;
// .ci/run installs it when it is missing.
const chromiumPath = "/usr/bin/chromium"

// Secrets of the fixture's tokens.
const (
	readSecret    = "read-secret-0123456789"
	operateSecret = "operate-secret-0123456789"
	adminSecret   = "admin-secret-0123456789"
)

// Receipt is the output of the charge workflow's one step, so that its
// dead-letter entries carry an output schema to resolve against.
type Receipt struct {
	ID string `json:"id"`
}

// site is a Klaxon server with the dashboard over a real SQLite store, with
// tokens, and a worker in the same process that runs a workflow "charge"
// whose step fails permanently, so its runs end in the dead-letter queue.
type site struct {
	t      *testing.T
	ctx    context.Context
	store  *sqlite.Store
	worker *klaxon.Client
	charge *klaxon.Workflow[int, Receipt]
	api    *klaxonhttp.Server
	server *httptest.Server
	shots  string

	closeOnce sync.Once
}

// needChromium skips the test, saying why, where the browser is missing.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("SKIP: no Chromium at %s (apt-get install chromium; .ci/run installs it): the dashboard's browser tests did not run", chromiumPath)
	}
}

func newSite(t *testing.T, st *sqlite.Store) *site {
	t.Helper()
	ctx := context.Background()
	if st == nil {
		var err error
		if st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "klaxon.db"), nil); err != nil {
			t.Fatal(err)
		}
	}
	s := &site{t: t, ctx: ctx, store: st, shots: t.ArtifactDir()}
	t.Cleanup(func() { s.closeOnce.Do(func() { _ = st.Close() }) })
	s.charge = klaxon.NewWorkflow("charge", func(ctx context.Context, amount int) (Receipt, error) {
		return klaxon.Step(ctx, "charge", func(context.Context) (Receipt, error) {
			return Receipt{}, klaxon.Permanent(errors.New("card declined"))
		})
	})
	worker, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 20 * time.Millisecond, ShutdownGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.Register(s.charge); err != nil {
		t.Fatal(err)
	}
	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s.worker = worker
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = worker.Stop(stopCtx)
	})
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := klaxonhttp.NewTokens(
		klaxonhttp.Token{Name: "reader", Scope: klaxonhttp.ScopeRead, Secret: readSecret},
		klaxonhttp.Token{Name: "operator", Scope: klaxonhttp.ScopeOperate, Secret: operateSecret},
		klaxonhttp.Token{Name: "root", Scope: klaxonhttp.ScopeAdmin, Secret: adminSecret},
	)
	if err != nil {
		t.Fatal(err)
	}
	if s.api, err = klaxonhttp.NewServer(klaxonhttp.Config{Client: client, Tokens: tokens, Dashboard: dashboard.Handler()}); err != nil {
		t.Fatal(err)
	}
	s.server = httptest.NewServer(s.api.Handler())
	t.Cleanup(s.server.Close)
	t.Logf("screenshots of this test: %s (kept with go test -artifacts -outputdir DIR)", s.shots)
	return s
}

// deadCharges enqueues n charge runs labelled batch=batch and waits until
// each has its open dead-letter entry, which it returns.
func (s *site) deadCharges(n int, batch string) []*klaxontype.DeadLetter {
	s.t.Helper()
	for i := range n {
		if _, err := s.charge.Enqueue(s.ctx, s.worker, 100+i, klaxon.WithEntity("batch", batch)); err != nil {
			s.t.Fatal(err)
		}
	}
	var entries []*klaxontype.DeadLetter
	s.eventually(10*time.Second, func() error {
		var err error
		entries, err = s.store.DLQList(s.ctx, &store.DLQListParams{
			Entities: map[string]string{"batch": batch}, States: []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}, Limit: 1000,
		})
		if err != nil {
			return err
		}
		if len(entries) != n {
			return fmt.Errorf("%d of %d charge runs of batch %s dead-lettered", len(entries), n, batch)
		}
		return nil
	})
	return entries
}

// eventually retries check until it returns nil or the time is up.
func (s *site) eventually(within time.Duration, check func() error) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("after %s: %v", within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// browser starts a headless Chromium of its own (a fresh profile) and
// returns a tab in it.
func (s *site) browser() context.Context {
	s.t.Helper()
	return s.browserWith()
}

// browserWith is browser with more options, such as flags of Chromium's.
func (s *site) browserWith(more ...chromedp.ExecAllocatorOption) context.Context {
	s.t.Helper()
	options := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(s.t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	options = append(options, more...)
	allocator, cancelAllocator := chromedp.NewExecAllocator(context.Background(), options...)
	tab, cancelTab := chromedp.NewContext(allocator)
	s.t.Cleanup(func() { cancelTab(); cancelAllocator() })
	// The first call starts the browser, and must not have a timeout: the
	// browser lives as long as that call's context.
	if err := chromedp.Do(tab); err != nil {
		s.t.Fatalf("start Chromium: %v", err)
	}
	return tab
}

// do runs browser steps, failing the test after 20 seconds.
func (s *site) do(tab context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		s.screenshot(tab, "failed-"+strings.ReplaceAll(what, " ", "-"))
		s.t.Fatalf("%s: %v", what, err)
	}
}

// run runs one browser action that returns a value, failing the test after
// 20 seconds.
func run[T any](s *site, tab context.Context, what string, action chromedp.Action[T]) T {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	value, err := chromedp.Run(ctx, action)
	if err != nil {
		s.screenshot(tab, "failed-"+strings.ReplaceAll(what, " ", "-"))
		s.t.Fatalf("%s: %v", what, err)
	}
	return value
}

// screenshot saves the whole page as NAME.png in the test's artifact folder.
func (s *site) screenshot(tab context.Context, name string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		s.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(s.shots, name+".png"), png, 0o644); err != nil {
		s.t.Errorf("save screenshot %s: %v", name, err)
	}
}

// text reads the text of the first element matching a CSS selector.
func (s *site) text(tab context.Context, selector string) string {
	s.t.Helper()
	return run(s, tab, "read "+selector, chromedp.TextContent(chromedp.CSS(selector)))
}

// count counts the elements matching a CSS selector.
func (s *site) count(tab context.Context, selector string) int {
	s.t.Helper()
	return run(s, tab, "count "+selector, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", selector)))
}

// waitFor waits until a JavaScript expression is true in the page.
func (s *site) waitFor(tab context.Context, what, expression string) {
	s.t.Helper()
	run(s, tab, "wait for "+what, chromedp.Poll[bool](expression, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
}

// waitText waits until the first element matching selector contains want;
// when it never does, the failure says what the element held.
func (s *site) waitText(tab context.Context, selector, want string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](
		fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, selector, want),
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		what := "wait for " + fmt.Sprintf("%q in %s", want, selector)
		s.screenshot(tab, "failed-"+strings.ReplaceAll(what, " ", "-"))
		held := run(s, tab, "read "+selector, chromedp.Evaluate[string](fmt.Sprintf(
			`(() => { const e = document.querySelector(%q); return e ? JSON.stringify(e.textContent) : 'no such element'; })()`, selector)))
		s.t.Fatalf("%s: %v; it holds %s", what, err, held)
	}
}

// waitElement waits until an element matches selector.
func (s *site) waitElement(tab context.Context, selector string) {
	s.t.Helper()
	s.waitFor(tab, selector, fmt.Sprintf("!!document.querySelector(%q)", selector))
}

// open shows a page of the dashboard by its hash, as a link would.
func (s *site) open(tab context.Context, hash string) {
	s.t.Helper()
	run(s, tab, "open "+hash, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("location.hash = %q", hash)))
}

// signIn opens the dashboard and signs in with secret.
func (s *site) signIn(tab context.Context, secret string) {
	s.t.Helper()
	s.do(tab, "open the sign-in form", chromedp.Navigate(s.server.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#login-token")))
	s.screenshot(tab, "sign-in")
	s.do(tab, "sign in",
		chromedp.SendKeys(chromedp.CSS("#login-token"), secret),
		chromedp.Click(chromedp.CSS("#login-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#nav")),
	)
	s.waitElement(tab, "#runs-by-status, #ov-runs p.muted:not(:empty)")
}

// fetchStatus calls the API from the page with a token and returns the
// HTTP status.
func (s *site) fetchStatus(tab context.Context, method, path, secret, body string) int {
	s.t.Helper()
	script := fmt.Sprintf(`fetch(%q, {method: %q, headers: {Authorization: 'Bearer ' + %q, 'Content-Type': 'application/json'}, body: %q}).then(r => r.status)`,
		path, method, secret, body)
	return run(s, tab, "fetch "+path, chromedp.Evaluate[int](script, chromedp.EvalAwaitPromise))
}

// newLoopbackServer serves an API over httptest, which listens on loopback
// as a server without tokens requires.
func newLoopbackServer(t *testing.T, api *klaxonhttp.Server) *httptest.Server {
	t.Helper()
	server := httptest.NewServer(api.Handler())
	t.Cleanup(server.Close)
	return server
}

// TestAdminReadsTheAuditLog: an operator replays dead letters with a raised
// budget (a bad one is refused, changing nothing) and sees no audit log; an
// admin finds the replay in the audit log, newest first, filters it by
// action and actor, and pages back through older records.
func TestAdminReadsTheAuditLog(t *testing.T) {
	needChromium(t)
	s := newSite(t, nil)
	entries := s.deadCharges(2, "audit")
	// Enough older records for a second page.
	for i := range 60 {
		if err := s.store.AuditAppend(s.ctx, &store.AuditAppendParams{Actor: "ci-bot", Action: klaxontype.AuditAdminRequest,
			Target: fmt.Sprintf("GET /api/v1/tokens?n=%d", i), Result: "200 OK"}); err != nil {
			t.Fatal(err)
		}
	}
	tab := s.browser()
	s.signIn(tab, operateSecret)
	if visible := run(s, tab, "look for the audit link", chromedp.Evaluate[bool](`!document.querySelector('#nav a[data-page="audit"]').hidden`)); visible {
		t.Error("an operate token sees the Audit link")
	}
	s.open(tab, "#/audit")
	s.waitText(tab, "#audit-needs-admin", "needs an admin token")

	// A bad budget in the bulk form is refused before anything is sent.
	s.open(tab, "#/dlq?state=open")
	s.waitElement(tab, fmt.Sprintf(`input[name=entry][value=%q]`, entries[1].ID))
	s.do(tab, "replay with a negative budget",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name=entry][value=%q]`, entries[1].ID))),
		chromedp.SendKeys(chromedp.CSS(`#dlq-actions input[name=budget_usd]`), "-1"),
		chromedp.Click(chromedp.CSS(`button[data-action="replay-selected"]`)))
	s.waitText(tab, "#notice", "budget $ -1: give an amount of US dollars above 0")
	if e := s.entryState(entries[1].ID); e != klaxontype.DeadLetterOpen {
		t.Fatalf("after a refused budget the entry is %s; want open", e)
	}

	// The entry's page replays with a raised budget.
	s.open(tab, "#/dlq/"+entries[0].ID)
	s.waitElement(tab, "#replay-form input[name=budget_tokens]")
	s.do(tab, "replay with a budget",
		chromedp.SendKeys(chromedp.CSS(`#replay-form input[name=budget_tokens]`), "5000"),
		chromedp.SendKeys(chromedp.CSS(`#replay-form input[name=budget_usd]`), "2.5"),
		chromedp.Click(chromedp.CSS(`#replay-form button[type=submit]`)))
	s.waitText(tab, "#dry-run-budget", "each replayed run: 5,000 tokens and $2.5000")
	s.screenshot(tab, "replay-with-budget")
	s.do(tab, "confirm the replay", chromedp.Click(chromedp.CSS("#dialog-ok")))
	s.waitText(tab, "#notice", "replayed")
	replayed, err := s.store.RunGet(s.ctx, entries[0].RunID)
	if err != nil {
		t.Fatal(err)
	}
	if b := replayed.Budget; b == nil || b.Tokens != 5000 || b.CostUSD != 2.5 {
		t.Errorf("the replayed run's budget is %+v; want 5000 tokens and $2.50", b)
	}

	s.do(tab, "sign out", chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#login-token")))
	s.signIn(tab, adminSecret)
	s.do(tab, "open the audit log with its key", chromedp.KeyEvent("7"))
	s.waitElement(tab, "#audit-table")
	s.screenshot(tab, "audit-log")
	// Newest first: the operator's replay (this page's own read is recorded
	// once answered, for the next refresh).
	actions := run(s, tab, "read the actions", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#audit-table tbody tr')].map((r) => r.dataset.action)`))
	if len(actions) != 50 || actions[0] != "dlq.replay" {
		t.Fatalf("the first page has %d records beginning %v; want 50, the replay first", len(actions), actions[:min(3, len(actions))])
	}
	s.do(tab, "filter by action",
		chromedp.SetValue(chromedp.CSS(`#audit-filter select[name=action]`), "dlq.replay"),
		chromedp.Click(chromedp.CSS(`#audit-filter button[type=submit]`)))
	s.waitFor(tab, "only replays", `(() => { const rows = [...document.querySelectorAll('#audit-table tbody tr')];
		return rows.length === 1 && rows[0].dataset.action === 'dlq.replay'; })()`)
	s.waitText(tab, "#audit-table", entries[0].ID)
	s.waitText(tab, "#audit-table", "operator")
	s.waitText(tab, "#audit-table", `"tokens":5000`)
	s.open(tab, "#/audit?actor=ci-bot")
	s.waitElement(tab, "#audit-older")
	s.do(tab, "page back", chromedp.Click(chromedp.CSS("#audit-older")))
	s.waitFor(tab, "the older page", `(() => { const rows = [...document.querySelectorAll('#audit-table tbody tr')];
		return rows.length === 10 && rows.every((r) => r.textContent.includes('ci-bot')); })()`)
	s.waitText(tab, ".pager", "Newest")
	if text := s.text(tab, "#audit-table tbody tr:last-child"); !strings.Contains(text, "n=0") {
		t.Errorf("the last record of the older page reads %q; want the oldest (n=0)", text)
	}
}

// entryState is the state of a dead-letter entry in the store.
func (s *site) entryState(id string) klaxontype.DeadLetterState {
	s.t.Helper()
	entry, err := s.store.DLQGet(s.ctx, id)
	if err != nil {
		s.t.Fatal(err)
	}
	return entry.State
}

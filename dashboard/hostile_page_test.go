package dashboard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/dashboard"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// hostilePage is a page of another origin that tries to drive a server
// without tokens at %[1]s: enqueue a run and purge the dead-letter queue with
// requests that need no CORS preflight (a body sent with no-cors and no
// declared type, as text/plain, as a form), and once with a preflight. It
// shows #done when every attempt has settled.
const hostilePage = `<!doctype html><html><body>
<iframe name="sink"></iframe>
<form id="purge" method="POST" action="%[1]s/api/v1/dlq/purge" enctype="text/plain" target="sink">
<input name='{"all":true,"x":"' value='"}'></form>
<script>
const target = %[1]q;
const enqueue = JSON.stringify({workflow: "charge", input: 1});
const purge = JSON.stringify({all: true});
const attempts = [
  () => fetch(target + "/api/v1/runs", {method: "POST", mode: "no-cors", body: new Blob([enqueue])}),
  () => fetch(target + "/api/v1/dlq/purge", {method: "POST", mode: "no-cors", body: new Blob([purge])}),
  () => fetch(target + "/api/v1/runs", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: enqueue}),
  () => fetch(target + "/api/v1/dlq/purge", {method: "POST", headers: {"Content-Type": "application/json"}, body: purge}),
];
(async () => {
  for (const attempt of attempts) {
    try { await attempt(); } catch (e) { console.log("refused: " + e); }
  }
  await new Promise(resolve => {
    document.querySelector("iframe").addEventListener("load", resolve, {once: true});
    document.getElementById("purge").submit();
    setTimeout(resolve, 3000);
  });
  const done = document.createElement("p");
  done.id = "done";
  done.textContent = "done";
  document.body.appendChild(done);
})();
</script></body></html>`

// A web page of another origin, open in the user's browser, changes nothing
// on a server without tokens, and a name rebound to the server's address
// (DNS rebinding) reads nothing from it. Before, the page enqueued a run and
// purged the dead-letter queue as "anonymous", and the rebound name was
// answered with every scope.
func TestHostilePageChangesNothing(t *testing.T) {
	needChromium(t)
	t.Parallel()
	s := newSite(t, nil)
	s.deadCharges(3, "hostile")
	client, err := klaxon.NewClient(s.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	open, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client, Dashboard: dashboard.Handler()})
	if err != nil {
		t.Fatal(err)
	}
	target := newLoopbackServer(t, open)
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, hostilePage, target.URL)
	}))
	t.Cleanup(attacker.Close)
	runsBefore := s.runCount()
	entriesBefore := s.openEntries()

	_, port, _ := strings.Cut(strings.TrimPrefix(target.URL, "http://127.0.0.1"), ":")
	tab := s.browserWith(chromedp.Flag("host-resolver-rules", "MAP evil.example 127.0.0.1"))
	s.do(tab, "open the hostile page", chromedp.Navigate(attacker.URL+"/"))
	s.waitElement(tab, "#done")
	s.do(tab, "open the API under a rebound name", chromedp.Navigate("http://evil.example:"+port+"/api/v1/whoami"))
	body := run(s, tab, "read the rebound answer", chromedp.Evaluate[string](`document.body.innerText`))
	if strings.Contains(body, "anonymous") || !strings.Contains(body, "evil.example") {
		t.Errorf("the API under a rebound name answered %s; want it refused naming the host", body)
	}

	if got := s.runCount(); got != runsBefore {
		t.Errorf("%d runs after the hostile page, want %d", got, runsBefore)
	}
	if got := s.openEntries(); got != entriesBefore {
		t.Errorf("%d open dead-letter entries after the hostile page, want %d", got, entriesBefore)
	}
}

// runCount counts every run in the store.
func (s *site) runCount() int {
	s.t.Helper()
	runs, err := s.store.RunList(s.ctx, &store.RunListParams{Limit: 100000})
	if err != nil {
		s.t.Fatal(err)
	}
	return len(runs)
}

// openEntries counts the open dead-letter entries.
func (s *site) openEntries() int {
	s.t.Helper()
	entries, err := s.store.DLQList(s.ctx, &store.DLQListParams{States: []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}, Limit: 100000})
	if err != nil {
		s.t.Fatal(err)
	}
	return len(entries)
}

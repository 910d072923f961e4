package http_test

import "testing"

// A query parameter given twice is refused with a 400 naming it, unless it
// is declared repeatable (entity): before, only its first value counted and
// the others were dropped without a word, a bogus one included.
func TestRepeatedQueryParametersAreRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	f.deadEntry(operateSecret, map[string]string{"batch": "7", "tenant": "acme"})
	for _, c := range []struct{ path, param string }{
		{"/api/v1/runs?status=dead&status=completed", "status"},
		{"/api/v1/runs?status=dead&status=bogus", "status"},
		{"/api/v1/runs?limit=1&limit=1000", "limit"},
		{"/api/v1/runs?workflow=charge&workflow=greet", "workflow"},
		{"/api/v1/dlq?class=permanent&class=timeout", "class"},
		{"/api/v1/dlq?channel=a&channel=b", "channel"},
		{"/api/v1/stats?window=1h&window=2h", "window"},
	} {
		t.Run(c.path, func(t *testing.T) {
			f.do("GET", c.path, adminSecret, "").wantProblem(t, 400, "query parameter "+c.param, "2 times")
		})
	}
	// The repeatable one, and lists given once, comma-separated, still work.
	for _, path := range []string{
		"/api/v1/runs?entity=batch%3D7&entity=tenant%3Dacme",
		"/api/v1/runs?status=dead,completed",
		"/api/v1/dlq?entity=batch%3D7&entity=tenant%3Dacme&class=permanent,timeout",
	} {
		if r := f.do("GET", path, adminSecret, ""); r.status != 200 {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}
}

package http_test

import (
	"context"
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// A NUL byte or invalid UTF-8 in any parameter, path, query or body, is
// refused with a 422 naming the parameter, and changes nothing. PostgreSQL
// answered 500 to each (SQLSTATE 22021, 22P05); SQLite answered 200 or 404.
func TestUnstorableTextIsRefusedNamingTheParameter(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	entry := f.deadEntry(operateSecret, nil)
	runs := f.runCount()
	cases := []struct {
		name, method, path, body string
		words                    []string
	}{
		{"NUL in a workflow filter", "GET", "/api/v1/runs?workflow=a%00b", "", []string{"query.workflow", "NUL"}},
		{"invalid UTF-8 in a workflow filter", "GET", "/api/v1/runs?workflow=a%ffb", "", []string{"query.workflow", "UTF-8"}},
		{"NUL in a channel filter", "GET", "/api/v1/dlq?channel=a%00b", "", []string{"query.channel", "NUL"}},
		{"invalid UTF-8 in a run filter", "GET", "/api/v1/dlq?run=%ff", "", []string{"query.run", "UTF-8"}},
		{"NUL in an entity filter", "GET", "/api/v1/runs?entity=k%3Da%00b", "", []string{"query.entity", "NUL"}},
		{"NUL in a run ID", "GET", "/api/v1/runs/a%00b", "", []string{"path.id", "NUL"}},
		{"invalid UTF-8 in an entry ID", "GET", "/api/v1/dlq/a%ffb", "", []string{"path.id", "UTF-8"}},
		{"NUL in a cancel reason", "POST", "/api/v1/runs/" + entry.RunID + "/cancel", `{"reason":"a\u0000b"}`, []string{"body.reason", "NUL"}},
		{"NUL in a discard reason", "POST", "/api/v1/dlq/" + entry.ID + "/discard", `{"reason":"a\u0000b"}`, []string{"body.reason", "NUL"}},
		{"NUL in an entity key", "POST", "/api/v1/runs", `{"workflow":"greet","input":"x","entities":{"k\u0000":"v"}}`, []string{"body.entities key", "NUL"}},
		{"NUL in an entity value", "POST", "/api/v1/runs", `{"workflow":"greet","input":"x","entities":{"k":"\u0000"}}`, []string{"body.entities.k", "NUL"}},
		{"NUL in an idempotency key", "POST", "/api/v1/runs", `{"workflow":"greet","input":"x","idempotency_key":"a\u0000"}`, []string{"body.idempotency_key", "NUL"}},
		{"NUL in a give-up reason", "POST", "/api/v1/outbox/give-up", `{"channel":"review","reason":"a\u0000b"}`, []string{"body.reason", "NUL"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.do(c.method, c.path, adminSecret, c.body).wantProblem(t, 422, c.words...)
		})
	}
	if got := f.runCount(); got != runs {
		t.Fatalf("%d runs after refused requests, want %d", got, runs)
	}
	after, err := f.client(readSecret).DeadLetter(context.Background(), entry.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.State != klaxontype.DeadLetterOpen {
		t.Fatalf("entry is %s after refused requests, want open", after.State)
	}
}

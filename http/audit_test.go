package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// An admin reads who did what through the API; the actor is the token's
// name, and other scopes cannot read the log.
func TestAuditLogOverTheAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	ctx := context.Background()
	admin, operator := f.client(adminSecret), f.client(operateSecret)
	first := f.deadEntry(operateSecret, nil)
	second := f.deadEntry(operateSecret, nil)
	if _, err := operator.Discard(ctx, first.ID, "duplicate order"); err != nil {
		t.Fatal(err)
	}
	if _, err := operator.Discard(ctx, second.ID, "refunded by hand"); err != nil {
		t.Fatal(err)
	}

	page, err := admin.Audit(ctx, &klaxonhttp.AuditQuery{Action: klaxontype.AuditDLQDiscard})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 2 || page.Records[0].Target != second.ID || page.Records[1].Target != first.ID {
		t.Fatalf("discards in the audit log: %+v; want the two, newest first", page.Records)
	}
	if r := page.Records[0]; r.Actor != "operator" || r.Result == "" || string(r.Params) != `{"reason":"refunded by hand","run":"`+second.RunID+`"}` {
		t.Errorf("record %+v (params %s); want the operator token's name, the reason and the run", r, r.Params)
	}
	older, err := admin.Audit(ctx, &klaxonhttp.AuditQuery{Limit: 1})
	if err != nil || len(older.Records) != 1 || older.NextCursor == "" {
		t.Fatalf("first page of one: %+v, %v; want one record and a cursor", older, err)
	}
	next, err := admin.Audit(ctx, &klaxonhttp.AuditQuery{Limit: 1, Cursor: older.NextCursor})
	if err != nil || len(next.Records) != 1 || next.Records[0].ID >= older.Records[0].ID {
		t.Fatalf("second page: %+v, %v; want the older record", next, err)
	}

	if _, err := operator.Audit(ctx, nil); err == nil {
		t.Error("an operator read the audit log")
	}
	f.do(http.MethodGet, "/api/v1/audit?action=dlq.purged", adminSecret, "").wantProblem(t, http.StatusUnprocessableEntity, "action")
	f.do(http.MethodGet, "/api/v1/audit?cursor=abc", adminSecret, "").wantProblem(t, http.StatusUnprocessableEntity, "cursor")
}

// An enqueue through the API is audited under the token's name, and so is
// every request to an admin endpoint, whatever its answer; an admin request
// refused for its scope or its token is not an admin token's use.
func TestAuditRecordsEnqueuesAndAdminRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	ctx := context.Background()
	admin, operator := f.client(adminSecret), f.client(operateSecret)
	enqueued, err := operator.Enqueue(ctx, &klaxonhttp.EnqueueRequest{Workflow: "greet", Input: json.RawMessage(`"Ada"`),
		IdempotencyKey: "greet-ada", Entities: map[string]string{"person": "ada"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Tokens(ctx); err != nil {
		t.Fatal(err)
	}
	if err := admin.ResetBreaker(ctx, "greet"); err == nil {
		t.Fatal("reset a breaker that never tripped")
	}
	f.do(http.MethodGet, "/api/v1/tokens", operateSecret, "").wantProblem(t, http.StatusForbidden, "admin")
	f.do(http.MethodGet, "/api/v1/tokens", "not-a-token-0123456789", "").wantProblem(t, http.StatusUnauthorized, "token")

	page, err := admin.Audit(ctx, &klaxonhttp.AuditQuery{Action: klaxontype.AuditRunEnqueue})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 1 || page.Records[0].Actor != "operator" || page.Records[0].Target != enqueued.Run.ID {
		t.Fatalf("run.enqueue records: %+v; want the operator's enqueue of run %s", page.Records, enqueued.Run.ID)
	}
	if params := string(page.Records[0].Params); strings.Contains(params, "Ada") || !strings.Contains(params, "greet-ada") {
		t.Errorf("enqueue params %s; want the key and entities, never the input", params)
	}

	page, err = admin.Audit(ctx, &klaxonhttp.AuditQuery{Action: klaxontype.AuditAdminRequest})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range page.Records {
		got = append(got, r.Actor+" "+r.Target+" "+r.Result)
	}
	// Newest first: the audit read before this one, the refused reset, the
	// token list; not the operator's 403 nor the unknown token's 401.
	want := []string{
		"root GET /api/v1/audit 200 OK",
		"root POST /api/v1/breakers/greet/reset 404 Not Found",
		"root GET /api/v1/tokens 200 OK",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("admin.request records:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r := f.do(http.MethodGet, "/api/v1/audit?action=admin.request&actor=root", adminSecret, ""); r.status != http.StatusOK {
		t.Errorf("filtering by admin.request: %d %s", r.status, r.body)
	}
}

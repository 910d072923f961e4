package http_test

import (
	"context"
	"net/http"
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

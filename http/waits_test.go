package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

type payment struct {
	OrderID string `json:"order_id"`
	Amount  int    `json:"amount"`
}

// startWaiter runs, on the fixture's store, a worker of two workflows that
// wait: pay waits for a payment signal, refund for alice's approval.
func startWaiter(t *testing.T, f *fixture) {
	t.Helper()
	pay := klaxon.NewWorkflow("pay", func(ctx context.Context, _ int) (payment, error) {
		return klaxon.WaitForSignal[payment](ctx, "payment", klaxon.SignalTimeout(time.Hour))
	}, klaxon.ExpectSteps("payment"))
	refund := klaxon.NewWorkflow("refund", func(ctx context.Context, amount int) (string, error) {
		decision, err := klaxon.AwaitApproval(ctx, "refund", klaxon.ApprovalRequest{
			Title: "Refund?", Data: map[string]int{"amount": amount}, Approvers: []string{"operator", "root"},
		})
		if err != nil {
			return "", err
		}
		return decision.Decision() + " by " + decision.By, nil
	})
	worker, err := klaxon.NewClient(f.store, &klaxon.Config{PollInterval: 10 * time.Millisecond, ShutdownGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.Register(pay, refund); err != nil {
		t.Fatal(err)
	}
	if err := worker.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = worker.Stop(ctx)
	})
}

func (f *fixture) enqueueRun(workflow, input string, entities map[string]string) string {
	f.t.Helper()
	enqueued, err := f.client(operateSecret).Enqueue(context.Background(), &klaxonhttp.EnqueueRequest{
		Workflow: workflow, Input: json.RawMessage(input), Entities: entities,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return enqueued.Run.ID
}

func TestSignalOverHTTPRefusesBadInputAndChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	startWaiter(t, f)
	id := f.enqueueRun("pay", "1", map[string]string{"order_id": "42"})
	f.awaitStatus(id, klaxontype.RunStatusWaiting)
	path := "/api/v1/runs/" + id + "/signals/payment"

	f.do(http.MethodPost, path, operateSecret, `{"order_id": 42}`).wantProblem(t, http.StatusUnprocessableEntity, "/order_id")
	f.do(http.MethodPost, path, operateSecret, `{"order_id": `).wantProblem(t, http.StatusBadRequest, "not valid JSON")
	f.do(http.MethodPost, "/api/v1/runs/01NOSUCHRUN0000000000000000/signals/payment", operateSecret, `{}`).wantProblem(t, http.StatusNotFound)
	f.do(http.MethodPost, "/api/v1/runs/"+id+"/signals/shipping", operateSecret, `{}`).wantProblem(t, http.StatusConflict, "manifest")
	f.do(http.MethodPost, path, readSecret, `{"order_id": "42"}`).wantProblem(t, http.StatusForbidden)
	f.do(http.MethodPost, "/api/v1/signals/payment?entity=order_id", operateSecret, `{}`).wantProblem(t, http.StatusUnprocessableEntity, "KEY=VALUE")
	if signals, _ := f.store.SignalList(context.Background(), id); len(signals) != 0 {
		t.Fatalf("refused signals were recorded: %+v", signals)
	}
	if run := f.awaitStatus(id, klaxontype.RunStatusWaiting); run.Status != klaxontype.RunStatusWaiting {
		t.Fatalf("run is %s", run.Status)
	}

	// By entity, as a webhook that knows the order: the wait takes it.
	results, err := f.client(operateSecret).SignalEntity(context.Background(), "order_id", "42", "payment",
		json.RawMessage(`{"order_id": "42", "amount": 10}`), "evt_1")
	if err != nil || len(results) != 1 || !results[0].Consumed || results[0].Signal.Actor != "operator" {
		t.Fatalf("signal by entity = %+v, %v; want taken, sent by the operator token", results, err)
	}
	run := f.awaitStatus(id, klaxontype.RunStatusCompleted)
	if !strings.Contains(string(run.Output), `"amount":10`) {
		t.Errorf("output %s is not the payload", run.Output)
	}
	detail, err := f.client(readSecret).Run(context.Background(), id)
	if err != nil || len(detail.Waits) != 1 || detail.Waits[0].State != klaxontype.WaitSatisfied || len(detail.Signals) != 1 {
		t.Fatalf("run detail waits %+v signals %+v, %v", detail.Waits, detail.Signals, err)
	}
	// The webhook retried with the same key: the first signal, nothing new.
	again, err := f.client(operateSecret).Signal(context.Background(), id, "payment", json.RawMessage(`{"order_id": "42", "amount": 10}`), "evt_1")
	if err != nil || !again.Duplicate {
		t.Fatalf("retried signal = %+v, %v; want the duplicate answer", again, err)
	}
}

func TestApprovalsInboxOverHTTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	startWaiter(t, f)
	id := f.enqueueRun("refund", "120", nil)
	f.awaitStatus(id, klaxontype.RunStatusWaiting)
	ctx := context.Background()

	inbox, err := f.client(readSecret).Approvals(ctx, 0)
	if err != nil || len(inbox) != 1 || inbox[0].RunID != id || inbox[0].Request.Title != "Refund?" {
		t.Fatalf("inbox = %+v, %v", inbox, err)
	}
	path := "/api/v1/runs/" + id + "/approvals/refund"
	f.do(http.MethodPost, path, readSecret, `{"decision":"approve"}`).wantProblem(t, http.StatusForbidden, "needs operate")
	f.do(http.MethodPost, path, operateSecret, `{"decision":"maybe"}`).wantProblem(t, http.StatusUnprocessableEntity)
	f.do(http.MethodPost, "/api/v1/runs/"+id+"/approvals/other", operateSecret, `{"decision":"approve"}`).wantProblem(t, http.StatusNotFound, "no open approval")
	if records, _ := f.store.AuditList(ctx, &store.AuditListParams{Action: klaxontype.AuditApprovalDecide}); len(records) != 0 {
		t.Fatalf("refused decisions were audited: %+v", records)
	}

	decided, err := f.client(operateSecret).DecideApproval(ctx, id, "refund", klaxon.Decision{Approved: true, Comment: "order checked"})
	if err != nil || !decided.Approved || decided.By != "operator" {
		t.Fatalf("decision = %+v, %v; want approved by the operator token", decided, err)
	}
	run := f.awaitStatus(id, klaxontype.RunStatusCompleted)
	if string(run.Output) != `"approved by operator"` {
		t.Errorf("output %s", run.Output)
	}
	if inbox, _ := f.client(readSecret).Approvals(ctx, 0); len(inbox) != 0 {
		t.Errorf("the decided request is still in the inbox: %+v", inbox)
	}
	records, err := f.store.AuditList(ctx, &store.AuditListParams{Action: klaxontype.AuditApprovalDecide})
	if err != nil || len(records) != 1 || records[0].Actor != "operator" {
		t.Fatalf("audit = %+v, %v", records, err)
	}
}

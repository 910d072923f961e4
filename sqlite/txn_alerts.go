package sqlite

import (
	"context"
	"encoding/json"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/txn"
)

func (t *tx) AlertInsert(_ context.Context, p *store.AlertFireParams, runIDs []string) (*klaxontype.Alert, error) {
	ids, err := json.Marshal(runIDs)
	if err != nil {
		return nil, err
	}
	err = execute(t.conn, alertInsertSQL, nil, p.ID, p.Rule, string(p.Kind), p.Workflow,
		string(p.Class), string(p.Severity), p.Summary, p.Value, p.Threshold, string(ids), p.At)
	if err != nil || t.conn.Changes() == 0 {
		return nil, err
	}
	return getAlert(t.conn, alertGetSQL, p.ID)
}

func (t *tx) AlertGet(_ context.Context, id string) (*klaxontype.Alert, error) {
	return getAlert(t.conn, alertGetSQL, id)
}

func (t *tx) AlertGetFiring(_ context.Context, rule, workflow string, class klaxontype.FailureClass) (*klaxontype.Alert, error) {
	return getAlert(t.conn, alertGetFiringSQL, rule, workflow, string(class))
}

func (t *tx) AlertUpdate(_ context.Context, p *store.AlertUpdateParams, runIDs []string) (*klaxontype.Alert, error) {
	ids, err := json.Marshal(runIDs)
	if err != nil {
		return nil, err
	}
	err = execute(t.conn, alertUpdateSQL, nil, p.ID, p.Summary, p.Value, p.Threshold,
		string(ids), p.Notify, p.ExpectNotifications, p.At)
	if err != nil || t.conn.Changes() == 0 {
		return nil, err
	}
	return getAlert(t.conn, alertGetSQL, p.ID)
}

func (t *tx) AlertResolve(_ context.Context, p *store.AlertResolveParams) (*klaxontype.Alert, error) {
	if err := execute(t.conn, alertResolveSQL, nil, p.ID, nullIfEmpty(p.Summary), p.At); err != nil || t.conn.Changes() == 0 {
		return nil, err
	}
	return getAlert(t.conn, alertGetSQL, p.ID)
}

// BreakerOpen reads the breaker before it trips it: the writer is the only
// one to write, so no other trip comes between.
func (t *tx) BreakerOpen(_ context.Context, p *store.BreakerTripParams, at time.Time) (*klaxontype.Breaker, error) {
	before, err := getBreaker(t.conn, p.Workflow)
	if err != nil {
		return nil, err
	}
	if err := execute(t.conn, breakerTripSQL, nil, p.Workflow, p.Reason, at, p.Until, p.Actor); err != nil {
		return nil, err
	}
	if before != nil && before.Open {
		return nil, nil
	}
	return getBreaker(t.conn, p.Workflow)
}

func (t *tx) BreakerClose(_ context.Context, p *store.BreakerResetParams, at time.Time) (bool, error) {
	if err := execute(t.conn, breakerResetSQL, nil, p.Workflow, at, p.Actor); err != nil {
		return false, err
	}
	return t.conn.Changes() > 0, nil
}

func (t *tx) OutboxInsert(_ context.Context, p *txn.OutboxInsertParams) error {
	if p.AlertID != "" {
		return execute(t.conn, outboxInsertAlertSQL, nil, p.AlertID, p.Channel, p.At, string(p.Payload))
	}
	if p.Kind != "" {
		return execute(t.conn, outboxInsertKindSQL, nil, p.EntryID, p.Channel, p.At, string(p.Kind), string(p.Payload))
	}
	return execute(t.conn, outboxInsertBreakerSQL, nil, p.Channel, p.At, string(p.Payload))
}

func (t *tx) WorkflowUpsert(_ context.Context, w *txn.WorkflowRow) error {
	return execute(t.conn, workflowRegisterSQL, nil, w.Name, w.Version, string(w.ExpectedSteps),
		nullIfEmpty(string(w.InputSchema)), nullIfEmpty(string(w.Policies)), w.At)
}

func (t *tx) OutboxSettle(_ context.Context, p *store.OutboxSettleParams, next time.Time, attempted, clearError bool, at time.Time) (bool, error) {
	count := 0
	if attempted {
		count = 1
	}
	err := execute(t.conn, outboxSettleSQL, nil, p.ID, p.Holder, string(p.State), next, nullIfEmpty(p.Error), at, count, clearError)
	if err != nil {
		return false, err
	}
	return t.conn.Changes() > 0, nil
}

package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/txn"
)

// AlertInsert lets the partial unique index decide: of two evaluators
// inserting the same rule and key, the second waits for the first and then
// inserts nothing.
func (t *tx) AlertInsert(ctx context.Context, p *store.AlertFireParams, runIDs []string) (*klaxontype.Alert, error) {
	ids, err := json.Marshal(runIDs)
	if err != nil {
		return nil, err
	}
	return queryAlert(ctx, t.tx, alertInsertSQL, p.ID, p.Rule, string(p.Kind), p.Workflow,
		string(p.Class), string(p.Severity), p.Summary, p.Value, p.Threshold, string(ids), p.At)
}

func (t *tx) AlertGet(ctx context.Context, id string) (*klaxontype.Alert, error) {
	return queryAlert(ctx, t.tx, alertGetSQL, id)
}

func (t *tx) AlertGetFiring(ctx context.Context, rule, workflow string, class klaxontype.FailureClass) (*klaxontype.Alert, error) {
	return queryAlert(ctx, t.tx, alertGetFiringSQL, rule, workflow, string(class))
}

func (t *tx) AlertUpdate(ctx context.Context, p *store.AlertUpdateParams, runIDs []string) (*klaxontype.Alert, error) {
	ids, err := json.Marshal(runIDs)
	if err != nil {
		return nil, err
	}
	return queryAlert(ctx, t.tx, alertUpdateSQL, p.ID, p.Summary, p.Value, p.Threshold,
		string(ids), p.Notify, p.ExpectNotifications, p.At)
}

func (t *tx) AlertResolve(ctx context.Context, p *store.AlertResolveParams) (*klaxontype.Alert, error) {
	return queryAlert(ctx, t.tx, alertResolveSQL, p.ID, orNull(p.Summary), p.At)
}

// BreakerOpen lets the upsert decide, on the row it locks, whether this trip
// opens the breaker: of concurrent trips of a closed breaker, one opens it;
// the others find it open and extend it.
func (t *tx) BreakerOpen(ctx context.Context, p *store.BreakerTripParams, at time.Time) (*klaxontype.Breaker, error) {
	rows, err := t.tx.Query(ctx, breakerOpenSQL, p.Workflow, p.Reason, at, p.Until, p.Actor)
	if err != nil {
		return nil, err
	}
	row, err := pgx.CollectOneRow(rows, pgx.RowToAddrOfStructByName[breakerRow])
	if errors.Is(err, pgx.ErrNoRows) {
		_, err := t.tx.Exec(ctx, breakerExtendSQL, p.Workflow, p.Reason, p.Until, p.Actor)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	return row.breaker(at), nil
}

func (t *tx) BreakerClose(ctx context.Context, p *store.BreakerResetParams, at time.Time) (bool, error) {
	tag, err := t.tx.Exec(ctx, breakerResetSQL, p.Workflow, at, p.Actor)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

func (t *tx) OutboxInsert(ctx context.Context, p *txn.OutboxInsertParams) error {
	var err error
	switch {
	case p.AlertID != "":
		_, err = t.tx.Exec(ctx, outboxInsertAlertSQL, p.AlertID, p.Channel, p.At, string(p.Payload))
	case p.Kind != "":
		_, err = t.tx.Exec(ctx, outboxInsertKindSQL, p.EntryID, p.Channel, p.At, string(p.Kind), string(p.Payload))
	default:
		_, err = t.tx.Exec(ctx, outboxInsertBreakerSQL, p.Channel, p.At, string(p.Payload))
	}
	return err
}

func (t *tx) WorkflowUpsert(ctx context.Context, w *txn.WorkflowRow) error {
	_, err := t.tx.Exec(ctx, workflowRegisterSQL, w.Name, w.Version, string(w.ExpectedSteps),
		orNull(string(w.InputSchema)), orNull(string(w.Policies)), w.At)
	return err
}

func (t *tx) OutboxSettle(ctx context.Context, p *store.OutboxSettleParams, next time.Time, attempted, clearError bool, at time.Time) (bool, error) {
	count := 0
	if attempted {
		count = 1
	}
	tag, err := t.tx.Exec(ctx, outboxSettleSQL, p.ID, p.Holder, string(p.State), next, orNull(p.Error), at, count, clearError)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

package txn

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// AlertFire records a new firing alert of a rule and key, with its firing
// notifications, unless one fires already: then it writes nothing and
// returns that alert with fired false, so that of two evaluators one fires.
func (r Rules) AlertFire(ctx context.Context, params *store.AlertFireParams) (alert *klaxontype.Alert, fired bool, err error) {
	if err := store.CheckAlertFire(params); err != nil {
		return nil, false, err
	}
	err = r.transact(ctx, func(ctx context.Context, tx Tx) error {
		inserted, err := tx.AlertInsert(ctx, params, alertRunIDs(params.RunIDs))
		if err != nil {
			return err
		}
		if fired = inserted != nil; !fired {
			alert, err = tx.AlertGetFiring(ctx, params.Rule, params.Workflow, params.Class)
			return err
		}
		alert = inserted
		return r.notifyAlert(ctx, tx, alert, klaxontype.AlertEventFiring, params.Channels)
	})
	if err != nil {
		return nil, false, err
	}
	return alert, fired, nil
}

// AlertUpdate records a firing alert's latest measurement and, when Notify is
// set, a repeat notification, only if the alert has recorded exactly
// ExpectNotifications notifications; otherwise it writes nothing and updated
// is false.
func (r Rules) AlertUpdate(ctx context.Context, params *store.AlertUpdateParams) (alert *klaxontype.Alert, updated bool, err error) {
	if params.ID == "" || params.At.IsZero() {
		return nil, false, invalid("an alert update needs the alert's ID and a time")
	}
	err = r.transact(ctx, func(ctx context.Context, tx Tx) error {
		changed, err := tx.AlertUpdate(ctx, params, alertRunIDs(params.RunIDs))
		if err != nil {
			return err
		}
		if updated = changed != nil; !updated {
			alert, err = existingAlert(ctx, tx, params.ID)
			return err
		}
		alert = changed
		if !params.Notify {
			return nil
		}
		return r.notifyAlert(ctx, tx, alert, klaxontype.AlertEventRepeat, params.Channels)
	})
	if err != nil {
		return nil, false, err
	}
	return alert, updated, nil
}

// AlertResolve resolves a firing alert with its resolved notifications; an
// alert already resolved is left alone and resolved is false.
func (r Rules) AlertResolve(ctx context.Context, params *store.AlertResolveParams) (alert *klaxontype.Alert, resolved bool, err error) {
	if params.ID == "" || params.At.IsZero() {
		return nil, false, invalid("resolving an alert needs its ID and a time")
	}
	err = r.transact(ctx, func(ctx context.Context, tx Tx) error {
		changed, err := tx.AlertResolve(ctx, params)
		if err != nil {
			return err
		}
		if resolved = changed != nil; !resolved {
			alert, err = existingAlert(ctx, tx, params.ID)
			return err
		}
		alert = changed
		return r.notifyAlert(ctx, tx, alert, klaxontype.AlertEventResolved, params.Channels)
	})
	if err != nil {
		return nil, false, err
	}
	return alert, resolved, nil
}

// existingAlert reads an alert that must exist.
func existingAlert(ctx context.Context, tx Tx, id string) (*klaxontype.Alert, error) {
	alert, err := tx.AlertGet(ctx, id)
	if err != nil {
		return nil, err
	}
	if alert == nil {
		return nil, fmt.Errorf("alert %s: %w", id, klaxontype.ErrNotFound)
	}
	return alert, nil
}

// notifyAlert queues one notification per channel, with the alert as it is
// now in the transaction.
func (r Rules) notifyAlert(ctx context.Context, tx Tx, alert *klaxontype.Alert, event klaxontype.AlertEvent, channels []string) error {
	if len(channels) == 0 {
		return nil
	}
	payload, err := json.Marshal(&klaxontype.AlertNotification{Event: event, Sequence: alert.Notifications, Alert: alert})
	if err != nil {
		return err
	}
	t := r.now()
	for _, channel := range channels {
		if err := tx.OutboxInsert(ctx, &OutboxInsertParams{Channel: channel, AlertID: alert.ID, Payload: payload, At: t}); err != nil {
			return err
		}
	}
	return nil
}

// alertRunIDs keeps at most store.MaxAlertRunIDs run IDs, never nil.
func alertRunIDs(ids []string) []string {
	if len(ids) > store.MaxAlertRunIDs {
		return ids[:store.MaxAlertRunIDs]
	}
	if ids == nil {
		return []string{}
	}
	return ids
}

package http_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// TestOutboxThroughTheClient: a dead letter's notification waits on a channel
// no process delivers; a reader sees it summed up, an operator may not give
// it up, an admin does, and the notification keeps who and why.
func TestOutboxThroughTheClient(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	entry := f.deadEntry(operateSecret, nil)
	ctx := context.Background()

	pending, err := f.client(readSecret).PendingNotifications(ctx)
	if err != nil || len(pending) != 1 || pending[0].Channel != entry.Channel || pending[0].Kind != "dead_letter" || pending[0].Pending != 1 {
		t.Fatalf("PendingNotifications = %+v, %v; want 1 dead-letter notification on %s", pending, err, entry.Channel)
	}

	var problem *klaxonhttp.Error
	if _, err := f.client(operateSecret).GiveUpNotifications(ctx, entry.Channel, "hook removed"); !errors.As(err, &problem) || problem.Status != http.StatusForbidden {
		t.Errorf("an operator's GiveUpNotifications: %v; want 403", err)
	}
	if _, err := f.client(adminSecret).GiveUpNotifications(ctx, entry.Channel, ""); !errors.As(err, &problem) || problem.Status != http.StatusUnprocessableEntity {
		t.Errorf("GiveUpNotifications without a reason: %v; want 422", err)
	}
	if d := f.delivery(entry.ID); d.State != klaxontype.DeliveryPending {
		t.Fatalf("after refused give-ups the notification is %s; want pending", d.State)
	}

	given, err := f.client(adminSecret).GiveUpNotifications(ctx, entry.Channel, "hook removed")
	if err != nil || given != 1 {
		t.Fatalf("GiveUpNotifications = %d, %v; want 1", given, err)
	}
	if d := f.delivery(entry.ID); d.State != klaxontype.DeliveryGivenUp || d.LastError != "given up by root: hook removed" {
		t.Errorf("the notification is %s with error %q; want given_up by root, with the reason", d.State, d.LastError)
	}
	if pending, err := f.client(readSecret).PendingNotifications(ctx); err != nil || len(pending) != 0 {
		t.Errorf("PendingNotifications after the give-up = %+v, %v; want none", pending, err)
	}
}

// delivery is the one notification of an entry, as the store has it.
func (f *fixture) delivery(entryID string) *klaxontype.Delivery {
	f.t.Helper()
	entry, err := f.store.DLQGet(context.Background(), entryID)
	if err != nil || len(entry.Deliveries) != 1 {
		f.t.Fatalf("entry %s: %v; want it with one delivery", entryID, err)
	}
	return entry.Deliveries[0]
}

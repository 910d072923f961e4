package http_test

import (
	"context"
	"errors"
	"testing"
	"time"

	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func TestBreakersAndPurge(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	ctx := context.Background()
	admin, operator := f.client(adminSecret), f.client(operateSecret)
	kept := f.deadEntry(operateSecret, nil)
	gone := f.deadEntry(operateSecret, nil)
	if _, err := operator.Discard(ctx, gone.ID, "duplicate order"); err != nil {
		t.Fatal(err)
	}

	if _, err := admin.PurgeDeadLetters(ctx, &klaxonhttp.PurgeRequest{}); !errors.Is(err, klaxontype.ErrInvalid) {
		t.Fatalf("purge without a filter: %v", err)
	}
	if _, err := operator.PurgeDeadLetters(ctx, &klaxonhttp.PurgeRequest{States: []klaxontype.DeadLetterState{klaxontype.DeadLetterDiscarded}}); err == nil {
		t.Fatal("an operator purged")
	}
	purged, err := admin.PurgeDeadLetters(ctx, &klaxonhttp.PurgeRequest{States: []klaxontype.DeadLetterState{klaxontype.DeadLetterDiscarded}})
	if err != nil {
		t.Fatal(err)
	}
	if purged != 1 {
		t.Fatalf("purged %d, want 1", purged)
	}
	if _, err := admin.DeadLetter(ctx, gone.ID); !errors.Is(err, klaxontype.ErrNotFound) {
		t.Fatalf("purged entry: %v", err)
	}
	if _, err := admin.DeadLetter(ctx, kept.ID); err != nil {
		t.Fatalf("open entry after the purge: %v", err)
	}

	breakers, err := f.client(readSecret).Breakers(ctx)
	if err != nil || len(breakers) != 0 {
		t.Fatalf("breakers %v, %v", breakers, err)
	}
	if err := admin.ResetBreaker(ctx, "charge"); !errors.Is(err, klaxontype.ErrNotFound) {
		t.Fatalf("reset of a closed breaker: %v", err)
	}
	_, err = f.store.BreakerTrip(ctx, &store.BreakerTripParams{
		Workflow: "charge", Reason: "retry storm", Until: time.Now().Add(time.Hour), Actor: "test", RunID: kept.RunID,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := operator.ResetBreaker(ctx, "charge"); err == nil {
		t.Fatal("an operator reset a breaker")
	}
	if err := admin.ResetBreaker(ctx, "charge"); err != nil {
		t.Fatal(err)
	}
	breakers, err = admin.Breakers(ctx)
	if err != nil || len(breakers) != 1 || breakers[0].Open || breakers[0].ResetBy != "root" {
		t.Fatalf("breakers after the reset: %+v, %v", breakers, err)
	}
}

package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// TestOutboxListAndGiveUp: the fixture's dead letters wait on channels that
// nothing delivers; list shows them, give-up ends one channel's with the
// actor and reason, and bad requests change nothing.
func TestOutboxListAndGiveUp(t *testing.T) {
	t.Parallel()
	db := classFixture(t)

	code, before, stderr := run(t, nil, "outbox", "list", "--db", db, "--json")
	stdout := before
	var channels []*klaxonhttp.OutboxChannel
	if code != exitOK || json.Unmarshal([]byte(stdout), &channels) != nil || len(channels) == 0 {
		t.Fatalf("outbox list --json: exit %d %q %q", code, stdout, stderr)
	}
	target, total := channels[0], 0
	for _, c := range channels {
		total += c.Pending
	}
	code, stdout, _ = run(t, nil, "outbox", "list", "--db", db)
	if code != exitOK || !strings.Contains(stdout, "CHANNEL") || !strings.Contains(stdout, target.Channel) {
		t.Fatalf("outbox list table:\n%s", stdout)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"outbox", "give-up", "--reason", "x"}, "give-up needs --channel"},
		{[]string{"outbox", "give-up", "--channel", target.Channel}, "give-up needs --reason"},
		{[]string{"outbox", "give-up", target.Channel, "--reason", "x"}, "the channel goes in --channel"},
		{[]string{"outbox", "giveup"}, `unknown command "giveup"`},
	} {
		code, _, stderr := run(t, nil, append(bad.args, "--db", db)...)
		if code != exitUsage || !strings.Contains(stderr, bad.want) {
			t.Errorf("klaxon %s: exit %d %q; want a usage error saying %q", strings.Join(bad.args, " "), code, stderr, bad.want)
		}
	}
	if _, after, _ := run(t, nil, "outbox", "list", "--db", db, "--json"); after != before {
		t.Fatalf("refused give-ups changed the outbox:\n%s\nbefore:\n%s", after, before)
	}

	code, stdout, stderr = run(t, nil, "outbox", "give-up", "--channel", target.Channel, "--reason", "the review hook was removed", "--actor", "oncall", "--db", db)
	if code != exitOK || !strings.Contains(stdout, "gave up ") || !strings.Contains(stdout, target.Channel) {
		t.Fatalf("give-up: exit %d %q %q", code, stdout, stderr)
	}
	_, stdout, _ = run(t, nil, "outbox", "list", "--db", db, "--json")
	channels = nil
	if json.Unmarshal([]byte(stdout), &channels) != nil {
		t.Fatalf("outbox list after give-up: %q", stdout)
	}
	left := 0
	for _, c := range channels {
		if c.Channel == target.Channel {
			t.Errorf("channel %s still has %d pending after the give-up", c.Channel, c.Pending)
		}
		left += c.Pending
	}
	if left != total-target.Pending {
		t.Errorf("%d notifications pending after giving up %d of %d; want the other channels' untouched", left, target.Pending, total)
	}
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.DLQList(context.Background(), &store.DLQListParams{Channel: target.Channel, Limit: 1000})
	if err != nil || len(entries) == 0 {
		t.Fatalf("entries on %s: %d, %v", target.Channel, len(entries), err)
	}
	entry, err := st.DLQGet(context.Background(), entries[0].ID)
	if err != nil || len(entry.Deliveries) != 1 || entry.Deliveries[0].LastError != "given up by oncall: the review hook was removed" {
		t.Errorf("entry %s's notification: %+v, %v; want it given up by oncall with the reason", entries[0].ID, entry, err)
	}
}

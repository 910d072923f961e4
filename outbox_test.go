package klaxon_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// TestChannelHandlersTakeOnlyTheirKinds: a notification of a kind a client's
// handlers do not take (an alert, which klaxon server posts) on a channel the
// client was configured with is a failed delivery naming its kind, never a
// call of the handler, and is given up after MaxDeliveryAttempts like any
// other. The client judges by the notification's kind, not its channel's name.
func TestChannelHandlersTakeOnlyTheirKinds(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ctx := context.Background()
	_, fired, err := st.AlertFire(ctx, &store.AlertFireParams{
		ID: "01JDQ7ZK5X6V7W8Y9Z0A1B2C3D", Rule: "breakers", Kind: klaxontype.AlertBreakerOpen, Workflow: "triage",
		Severity: klaxontype.SeverityCritical, Summary: "open", Value: 1, Threshold: 1, At: time.Now(), Channels: []string{"pager"},
	})
	if err != nil || !fired {
		t.Fatalf("AlertFire: %v, %v", fired, err)
	}
	var handled atomic.Bool
	log := &lockedBuffer{}
	config := deliveryConfig(map[string]klaxon.DeadLetterHandler{
		"pager": klaxon.DeadLetterHandlerFunc(func(context.Context, *klaxontype.DeadLetter) error {
			handled.Store(true)
			return nil
		}),
	})
	config.MaxDeliveryAttempts = 1
	config.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	startClient(t, st, config)

	deadline := time.Now().Add(5 * time.Second)
	for {
		pending, err := st.OutboxCountPending(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the alert notification is still pending after %s; want it given up", 5*time.Second)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := log.String(); !strings.Contains(got, "is of kind alert") {
		t.Errorf("log %q; want the failure naming the notification's kind", got)
	}
	if handled.Load() {
		t.Error("the dead-letter handler was called with an alert notification")
	}
}

// lockedBuffer is a log destination that the dispatcher's goroutine writes
// and the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package notify_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/postgres/pgtest"
	"github.com/klaxonhq/klaxon/webhook"
)

// TestTwoServersDeliverOnceOnPostgres: two deliverers, each with its own
// pool as two servers would have, run together over one PostgreSQL
// database; every dead letter reaches the target exactly once.
func TestTwoServersDeliverOnceOnPostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.SchemaURL(t, "klaxon_notify_")
	ctx := context.Background()
	target := newReceiver(t, always(http.StatusOK))
	config, err := notify.Parse([]byte(`
channels:
  review:
    - {type: webhook, url: "`+target.server.URL+`", secret: "`+secret+`"}
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	var servers []*notify.Deliverer
	sent := make([]*countingTransport, 2)
	for i, holder := range []string{"server-a", "server-b"} {
		sent[i] = &countingTransport{}
		st, err := postgres.Open(ctx, dsn, &postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		servers = append(servers, notify.New(st, config, notify.Options{
			Holder: holder, Poll: 5 * time.Millisecond, Client: &http.Client{Transport: sent[i]},
		}))
		if holder == "server-a" {
			for range 40 {
				deadLetter(t, st, "invoices", "review")
			}
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, d := range servers {
		wg.Go(func() { d.Run(runCtx) })
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if bodies, _ := target.taken(); len(bodies) >= 40 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // room for a duplicate to arrive
	stop()
	wg.Wait()
	bodies, headers := target.taken()
	seen := map[string]int{}
	for i, h := range headers {
		if !webhook.Verify([]byte(secret), bodies[i], h.Get(webhook.SignatureHeader)) {
			t.Errorf("delivery %d does not verify", i)
		}
		seen[h.Get(webhook.DeliveryHeader)]++
	}
	if len(seen) != 40 || len(bodies) != 40 {
		t.Fatalf("the target got %d deliveries of %d entries; want each of 40 once", len(bodies), len(seen))
	}
	t.Logf("server a sent %d, server b %d", sent[0].n.Load(), sent[1].n.Load())
}

// countingTransport counts the requests a server sends.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(req)
}

package alert_test

import (
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/postgres/pgtest"
	"github.com/klaxonhq/klaxon/store"
)

// postgresSchemaURL makes a schema of its own for a test, or skips.
func postgresSchemaURL(t *testing.T) string { return pgtest.SchemaURL(t, "klaxon_alert_") }

// TestTwoServersOnPostgres: two servers (each its own pool, evaluator and
// notifier) on one PostgreSQL database evaluate at the same moments; one of
// them stops half-way and a third takes its place. The receiver gets firing,
// repeat and resolved once each.
func TestTwoServersOnPostgres(t *testing.T) {
	t.Parallel()
	dsn := postgresSchemaURL(t)
	h := newHarness(t) // its SQLite store is left unused
	h.config.Rules = []*alert.Rule{{
		Name: "dlq", Kind: klaxontype.AlertDLQRate, Severity: klaxontype.SeverityWarning,
		Repeat: 30 * time.Minute, Window: time.Hour, Threshold: 1, Notify: []string{"hook"},
	}}
	h.openStore = func() (store.Store, error) { return postgres.Open(h.ctx, dsn, &postgres.Options{MaxConns: 4}) }
	type server struct {
		store     store.Store
		evaluator *alert.Evaluator
		notifier  *alert.Notifier
	}
	start := func(name string) *server {
		h.open(name) // h drives the data through the newest server's store
		return &server{store: h.store, evaluator: h.evaluator, notifier: h.notifier}
	}
	servers := []*server{start("server-a"), start("server-b")}

	base := h.dead("pipeline", klaxontype.ClassPermanent).CreatedAt
	together := func(at time.Time) {
		h.clock.Set(at)
		var wg sync.WaitGroup
		for _, s := range servers {
			wg.Go(func() {
				if _, err := s.evaluator.Evaluate(h.ctx); err != nil {
					t.Errorf("Evaluate: %v", err)
				}
				if _, err := s.notifier.DeliverDue(h.ctx); err != nil {
					t.Errorf("DeliverDue: %v", err)
				}
			})
		}
		wg.Wait()
		for _, s := range servers {
			for {
				n, err := s.notifier.DeliverDue(h.ctx)
				if err != nil {
					t.Fatalf("DeliverDue: %v", err)
				}
				if n == 0 {
					break
				}
			}
		}
	}
	together(base.Add(time.Second))
	together(base.Add(10 * time.Minute))
	h.expect(h.hook.notifications(), "dlq", 1, firing)

	// Server a stops; a third server joins b.
	servers[0].store.Close()
	servers[0] = start("server-c")
	together(base.Add(31 * time.Minute))
	together(base.Add(2 * time.Hour))
	together(base.Add(3 * time.Hour))
	h.expect(h.hook.notifications(), "dlq", 2, repeat, resolved)
}

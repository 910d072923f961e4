package storetest

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testRateLimits checks the rate limits: a declaration is refused whole
// when invalid, a limit grants its requests at once and then spaces them,
// a wait longer than the caller accepts reserves nothing, tokens are
// reserved by estimate and settled by use, a provider's refusal blocks the
// limit until its Retry-After, and concurrent acquisitions together never
// exceed the limit.
func testRateLimits(t *testing.T, h *harness) {
	hourly := func(requests, tokens int64) *store.RateLimitSaveParams {
		return &store.RateLimitSaveParams{Key: "openai/gpt-4o-mini", Requests: requests, Tokens: tokens, Per: time.Hour}
	}
	near := func(t *testing.T, what string, got, want time.Duration) {
		t.Helper()
		if got < want-5*time.Second || got > want+time.Second {
			t.Errorf("%s is %s; want about %s", what, got, want)
		}
	}

	// acquireRequest acquires one request of openai/gpt-4o-mini, waiting at
	// most maxWait.
	acquireRequest := func(t *testing.T, f *fixture, maxWait time.Duration) *klaxontype.RateLimitGrant {
		t.Helper()
		grant, err := f.store.RateLimitAcquire(f.ctx, &store.RateLimitAcquireParams{Key: "openai/gpt-4o-mini", MaxWait: maxWait})
		if err != nil {
			t.Fatal(err)
		}
		return grant
	}

	t.Run("BadInputChangesNothing", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		for _, bad := range []*store.RateLimitSaveParams{
			{Key: "", Requests: 1, Per: time.Second},
			{Key: "k", Requests: 0, Per: time.Second},
			{Key: "k", Requests: -5, Per: time.Second},
			{Key: "k", Requests: 1, Tokens: -1, Per: time.Second},
			{Key: "k", Requests: 1, Per: 0},
			{Key: "k", Requests: 1, Per: -time.Second},
			{Key: "k\x00", Requests: 1, Per: time.Second},
		} {
			if _, err := f.store.RateLimitSave(f.ctx, bad); !errors.Is(err, klaxontype.ErrInvalid) {
				t.Errorf("saving %+v: %v; want ErrInvalid", bad, err)
			}
		}
		list, err := f.store.RateLimitList(f.ctx)
		if err != nil || len(list) != 0 {
			t.Fatalf("after refused declarations the store lists %+v (%v); want none", list, err)
		}
		if _, err := f.store.RateLimitAcquire(f.ctx, &store.RateLimitAcquireParams{Key: "nobody"}); !errors.Is(err, klaxontype.ErrNotFound) {
			t.Errorf("acquiring an undeclared limit: %v; want ErrNotFound", err)
		}
		if err := f.store.RateLimitSettle(f.ctx, &store.RateLimitSettleParams{Key: "nobody", Tokens: 5}); !errors.Is(err, klaxontype.ErrNotFound) {
			t.Errorf("settling an undeclared limit: %v; want ErrNotFound", err)
		}
	})

	t.Run("RequestsAreSpaced", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		saved, err := f.store.RateLimitSave(f.ctx, hourly(5, 0))
		if err != nil {
			t.Fatal(err)
		}
		if saved.Key != "openai/gpt-4o-mini" || saved.Requests != 5 || saved.Per != time.Hour || saved.State == nil ||
			saved.State.RequestsAvailable != 5 {
			t.Fatalf("saved %+v (state %+v)", saved, saved.State)
		}
		acquire := func(maxWait time.Duration) *klaxontype.RateLimitGrant {
			t.Helper()
			return acquireRequest(t, f, maxWait)
		}
		for i := range 5 {
			if grant := acquire(0); !grant.Granted || grant.Wait != 0 {
				t.Fatalf("acquisition %d of a fresh limit of 5: %+v; want granted at once", i+1, grant)
			}
		}
		refused := acquire(time.Minute)
		if refused.Granted || refused.RetryAt.IsZero() {
			t.Fatalf("the 6th acquisition with a minute to wait: %+v; want refused with a time to come back", refused)
		}
		near(t, "the refused wait", refused.Wait, 12*time.Minute)
		// Nothing was reserved by the refusal: the next caller waits as long.
		reserved := acquire(time.Hour)
		if !reserved.Granted {
			t.Fatalf("an acquisition accepting an hour's wait: %+v; want granted", reserved)
		}
		near(t, "the reserved wait", reserved.Wait, 12*time.Minute)
		// The reservation is spent: the one after waits a share more.
		near(t, "the wait after a reservation", acquire(0).Wait, 24*time.Minute)
		list, err := f.store.RateLimitList(f.ctx)
		if err != nil || len(list) != 1 {
			t.Fatalf("listed %+v (%v)", list, err)
		}
		if s := list[0].State; s.RequestsAvailable != 0 || !s.RequestsNext.After(time.Now().Add(time.Hour)) {
			t.Errorf("state after 6 of 5 requests: %+v; want none available, full again in over an hour", s)
		}
		// A new definition keeps what is spent.
		if _, err := f.store.RateLimitSave(f.ctx, hourly(50, 0)); err != nil {
			t.Fatal(err)
		}
		if grant := acquire(0); grant.Granted {
			t.Errorf("after raising the limit the budget spent still stands; got %+v", grant)
		}
	})

	t.Run("TokensReservedThenSettled", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		if _, err := f.store.RateLimitSave(f.ctx, hourly(100, 1000)); err != nil {
			t.Fatal(err)
		}
		acquire := func(tokens int64) *klaxontype.RateLimitGrant {
			t.Helper()
			grant, err := f.store.RateLimitAcquire(f.ctx, &store.RateLimitAcquireParams{Key: "openai/gpt-4o-mini", Tokens: tokens})
			if err != nil {
				t.Fatal(err)
			}
			return grant
		}
		settle := func(tokens int64) {
			t.Helper()
			if err := f.store.RateLimitSettle(f.ctx, &store.RateLimitSettleParams{Key: "openai/gpt-4o-mini", Tokens: tokens}); err != nil {
				t.Fatal(err)
			}
		}
		if grant := acquire(600); !grant.Granted || grant.Tokens != 600 {
			t.Fatalf("600 of 1000 tokens: %+v; want granted", grant)
		}
		if grant := acquire(600); grant.Granted {
			t.Fatalf("600 more tokens with 400 left: %+v; want refused", grant)
		}
		settle(-300) // the first call used 300 of its 600
		if grant := acquire(600); !grant.Granted {
			t.Fatalf("600 tokens with 700 left after the settlement: %+v; want granted", grant)
		}
		settle(500) // the second used 1100: a debt
		list, err := f.store.RateLimitList(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s := list[0].State; s.TokensAvailable > -390 || s.TokensAvailable < -400 {
			t.Errorf("tokens available after using 1400 of 1000: %d; want about -400", s.TokensAvailable)
		}
		// An estimate above the limit is capped at it, so it can be granted.
		grant, err := f.store.RateLimitAcquire(f.ctx, &store.RateLimitAcquireParams{Key: "openai/gpt-4o-mini", Tokens: 5000, MaxWait: 3 * time.Hour})
		if err != nil || !grant.Granted || grant.Tokens != 1000 {
			t.Fatalf("an estimate of 5000 of 1000: %+v (%v); want granted for 1000", grant, err)
		}
		near(t, "the wait for a full budget after a debt of 400", grant.Wait, 84*time.Minute)
	})

	t.Run("AProviderRefusalBlocksTheLimit", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		if _, err := f.store.RateLimitSave(f.ctx, &store.RateLimitSaveParams{Key: "openai/gpt-4o-mini", Requests: 60, Per: time.Minute}); err != nil {
			t.Fatal(err)
		}
		run := f.enqueue(nil)
		acquire := func(maxWait time.Duration) *klaxontype.RateLimitGrant {
			t.Helper()
			return acquireRequest(t, f, maxWait)
		}
		block := func(until time.Time, reason string) time.Time {
			t.Helper()
			grants, err := f.store.RateLimitBlock(f.ctx, &store.RateLimitBlockParams{
				Key: "openai/gpt-4o-mini", Until: until, RunID: run.ID, StepSeq: 2, Step: "ask", Actor: holderA, Reason: reason,
			})
			if err != nil {
				t.Fatal(err)
			}
			return grants
		}
		// A full budget of 60 a minute, and the provider says: not for 30 s.
		grants := block(time.Now().Add(30*time.Second), "openai: slow down (HTTP 429)\x00")
		near(t, "the block", time.Until(grants), 30*time.Second)
		if refused := acquire(0); refused.Granted {
			t.Fatalf("an acquisition during the block: %+v; want refused", refused)
		} else {
			near(t, "the refused acquisition's wait", time.Until(refused.RetryAt), 30*time.Second)
		}
		// From the block's end, one request a second: the budget is empty.
		near(t, "the first wait", acquire(time.Minute).Wait, 30*time.Second)
		near(t, "the second wait", acquire(time.Minute).Wait, 31*time.Second)
		// A shorter Retry-After reported later does not shorten it.
		near(t, "a shorter block", time.Until(block(time.Now().Add(5*time.Second), "again")), 32*time.Second)
		events := f.events(run.ID)
		var blocked []*klaxontype.Event
		for _, e := range events {
			if e.Type == klaxontype.EventRateLimitBlocked {
				blocked = append(blocked, e)
			}
		}
		if len(blocked) != 2 {
			t.Fatalf("events %+v; want two rate_limit.blocked", events)
		}
		if e := blocked[0]; e.Actor != holderA || e.Step != "ask" || e.StepSeq != 2 ||
			!strings.Contains(e.Message, "openai/gpt-4o-mini") || !strings.Contains(e.Message, "HTTP 429") {
			t.Errorf("the block's event = %+v; want the step, the worker, the key and the refusal", e)
		}

		// Without a Retry-After the budget is spent whole now: one request
		// at once, then the steady pace.
		if _, err := f.store.RateLimitSave(f.ctx, &store.RateLimitSaveParams{Key: "serpapi", Requests: 60, Per: time.Minute}); err != nil {
			t.Fatal(err)
		}
		grants, err := f.store.RateLimitBlock(f.ctx, &store.RateLimitBlockParams{Key: "serpapi"})
		if err != nil || time.Until(grants) > time.Second {
			t.Fatalf("a block without a time: grants at %s (%v); want now", grants, err)
		}
		for i, want := range []time.Duration{0, time.Second} {
			grant, err := f.store.RateLimitAcquire(f.ctx, &store.RateLimitAcquireParams{Key: "serpapi", MaxWait: time.Minute})
			if err != nil || !grant.Granted || grant.Wait > want+100*time.Millisecond || grant.Wait < want-100*time.Millisecond {
				t.Errorf("acquisition %d after a block without a time: %+v (%v); want granted after %s", i+1, grant, err, want)
			}
		}

		_, err = f.store.RateLimitBlock(f.ctx, &store.RateLimitBlockParams{Key: "nobody", Until: time.Now().Add(time.Minute), RunID: run.ID})
		checkErrorIs(t, "blocking an undeclared limit", err, klaxontype.ErrNotFound)
		_, err = f.store.RateLimitBlock(f.ctx, &store.RateLimitBlockParams{Key: "", Until: time.Now().Add(time.Minute)})
		checkErrorIs(t, "blocking without a key", err, klaxontype.ErrInvalid)
		if n := len(f.events(run.ID)); n != len(events) {
			t.Errorf("refused blocks wrote %d events", n-len(events))
		}
	})

	t.Run("ConcurrentAcquisitionsShareOneLimit", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		if _, err := f.store.RateLimitSave(f.ctx, hourly(10, 0)); err != nil {
			t.Fatal(err)
		}
		var granted atomic.Int32
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				grant, err := f.store.RateLimitAcquire(f.ctx, &store.RateLimitAcquireParams{Key: "openai/gpt-4o-mini"})
				if err != nil {
					t.Error(err)
					return
				}
				if grant.Granted {
					granted.Add(1)
				}
			})
		}
		wg.Wait()
		if n := granted.Load(); n != 10 {
			t.Errorf("40 concurrent acquisitions of a limit of 10: %d granted", n)
		}
	})
}

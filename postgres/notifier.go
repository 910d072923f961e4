package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// notifier listens on the klaxon_runs channel with a connection of its own and
// tells subscribers when runs became available in any process. It reconnects
// after a failure; subscribers poll meanwhile, so a lost notification only
// delays work.
type notifier struct {
	config        *pgx.ConnConfig
	cancel        context.CancelFunc
	done          chan struct{}
	announcerDone chan struct{}

	pool      *pgxpool.Pool
	announced chan string

	mu          sync.Mutex
	subscribers map[chan struct{}]struct{}
	started     bool
	ctx         context.Context
}

func newNotifier(pool *pgxpool.Pool) *notifier {
	ctx, cancel := context.WithCancel(context.Background())
	n := &notifier{
		config: pool.Config().ConnConfig.Copy(), pool: pool, announced: make(chan string, 1024),
		cancel: cancel, done: make(chan struct{}), announcerDone: make(chan struct{}),
		subscribers: map[chan struct{}]struct{}{}, ctx: ctx,
	}
	go n.announcer()
	return n
}

// announce tells every process's workers, soon, that runs of a workflow
// became available. Announcements of the same workflow within a few
// milliseconds share one NOTIFY: each NOTIFY takes a database-wide lock at
// commit, and one per enqueue would serialize enqueues.
func (n *notifier) announce(workflow string) {
	select {
	case n.announced <- workflow:
	default: // a burst already queued announcements enough
	}
}

func (n *notifier) announcer() {
	defer close(n.announcerDone)
	pending := map[string]bool{}
	for {
		select {
		case workflow := <-n.announced:
			pending[workflow] = true
		case <-n.ctx.Done():
			return
		}
		timer := time.NewTimer(2 * time.Millisecond)
	collect:
		for {
			select {
			case workflow := <-n.announced:
				pending[workflow] = true
			case <-timer.C:
				break collect
			case <-n.ctx.Done():
				timer.Stop()
				return
			}
		}
		for workflow := range pending {
			// A lost notification only delays work until the next poll.
			_, _ = n.pool.Exec(n.ctx, runsNotifySQL, workflow)
			delete(pending, workflow)
		}
	}
}

// SubscribeRuns returns a channel that receives a value whenever runs may have
// become available, in this process or another, and a function that ends the
// subscription. The listening connection opens with the first subscriber.
func (s *Store) SubscribeRuns() (<-chan struct{}, func()) {
	return s.notifier.subscribe()
}

func (n *notifier) subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	n.subscribers[ch] = struct{}{}
	if !n.started {
		n.started = true
		go n.listen()
	}
	n.mu.Unlock()
	return ch, func() {
		n.mu.Lock()
		delete(n.subscribers, ch)
		n.mu.Unlock()
	}
}

func (n *notifier) broadcast() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subscribers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (n *notifier) listen() {
	defer close(n.done)
	backoff := 50 * time.Millisecond
	for n.ctx.Err() == nil {
		if err := n.listenOnce(); err == nil || n.ctx.Err() != nil {
			return
		}
		// Work may have arrived while the connection was down.
		n.broadcast()
		select {
		case <-time.After(backoff):
		case <-n.ctx.Done():
			return
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (n *notifier) listenOnce() error {
	conn, err := pgx.ConnectConfig(n.ctx, n.config)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(n.ctx, "LISTEN klaxon_runs"); err != nil {
		return err
	}
	for {
		if _, err := conn.WaitForNotification(n.ctx); err != nil {
			return err
		}
		n.broadcast()
	}
}

func (n *notifier) close() {
	n.cancel()
	<-n.announcerDone
	n.mu.Lock()
	started := n.started
	n.mu.Unlock()
	if started {
		<-n.done
	}
}

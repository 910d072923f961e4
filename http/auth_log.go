package http

import (
	"log/slog"
	"net"
	"sync"
	"time"
)

// authFailureInterval is how often one client address's failed
// authentications are logged: the first at once, then at most one line an
// interval counting the ones in between, so that a client guessing secrets
// cannot flood the log.
const authFailureInterval = time.Minute

// authFailureLog logs failed authentications by client address, rate
// limited, and never with the secret presented.
type authFailureLog struct {
	logger *slog.Logger
	now    func() time.Time
	mu     sync.Mutex
	// clients maps an address to when it was last logged and how many
	// failures have not been logged since.
	clients map[string]*authFailures
}

type authFailures struct {
	logged     time.Time
	suppressed int
}

// maxLoggedClients bounds the addresses remembered; past it the memory of
// who was logged when is dropped, which at worst logs a line too many.
const maxLoggedClients = 4096

// record notes a failed authentication from remoteAddr, and logs it unless
// the address was logged less than an interval ago.
func (l *authFailureLog) record(remoteAddr, why string) {
	client, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		client = remoteAddr
	}
	now := l.now()
	l.mu.Lock()
	if l.clients == nil || len(l.clients) >= maxLoggedClients {
		l.clients = map[string]*authFailures{}
	}
	failures := l.clients[client]
	if failures == nil {
		failures = &authFailures{}
		l.clients[client] = failures
	}
	if !failures.logged.IsZero() && now.Sub(failures.logged) < authFailureInterval {
		failures.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := failures.suppressed
	failures.logged, failures.suppressed = now, 0
	l.mu.Unlock()
	l.logger.Warn("authentication failed", "client", client, "reason", why, "failures_not_logged_since_last", suppressed)
}

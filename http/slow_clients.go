package http

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// A client that opens connections and sends nothing, or declares a body and
// never sends it, must not hold the server: every read and write has a
// deadline, a body sent to a route that takes none is refused at once
// rather than read, and one client address holds a bounded number of
// connections.
const (
	// DefaultMaxConnsPerClient bounds the open connections of one client
	// address unless Config.MaxConnsPerClient says otherwise. A reverse
	// proxy is one address for all its clients: raise it behind one.
	DefaultMaxConnsPerClient = 128
	// readHeaderTimeout bounds the wait for a request's headers, readTimeout
	// for the whole request with its body, writeTimeout for the answer (a
	// bulk operation on many entries included), and idleTimeout a kept-alive
	// connection between requests.
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 5 * time.Minute
	idleTimeout       = 2 * time.Minute
)

// limitPerClient returns a listener that closes at once a connection from a
// client address that holds max open connections already.
func limitPerClient(listener net.Listener, max int) net.Listener {
	return &perClientListener{Listener: listener, max: max, open: map[string]int{}}
}

type perClientListener struct {
	net.Listener
	max  int
	mu   sync.Mutex
	open map[string]int
}

func (l *perClientListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client, _, err := net.SplitHostPort(conn.RemoteAddr().String())
		if err != nil {
			client = conn.RemoteAddr().String()
		}
		l.mu.Lock()
		full := l.open[client] >= l.max
		if !full {
			l.open[client]++
		}
		l.mu.Unlock()
		if full {
			_ = conn.Close()
			continue
		}
		return &countedConn{Conn: conn, release: func() { l.release(client) }}, nil
	}
}

func (l *perClientListener) release(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[client]--; l.open[client] <= 0 {
		delete(l.open, client)
	}
}

// countedConn gives its place back once, when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// refuseUnwantedBody answers, without reading it, a request that sends a
// body to an operation that takes none, and closes the connection: reading
// a body nobody wants would let a client that declares one and never sends
// it hold the server.
func (s *Server) refuseUnwantedBody(ctx huma.Context, next func(huma.Context)) {
	if ctx.Operation().RequestBody == nil {
		r, w := humago.Unwrap(ctx)
		if hasBody(r) {
			refuse(w, r, http.StatusBadRequest, r.Method+" "+ctx.Operation().Path+" takes no request body")
			return
		}
	}
	next(ctx)
}

// takesNoBody reports whether a method never takes a body on this server,
// whatever the route, so that even a path no operation serves refuses one.
func takesNoBody(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// retry runs fn until it succeeds, fails for a reason that is not transient,
// or ctx ends (or the store's RetryFor runs out). A database that restarts,
// fails over or drops connections makes the caller wait, not fail.
func (s *Store) retry(ctx context.Context, fn func(ctx context.Context) error) error {
	var deadline time.Time
	if s.retryFor > 0 {
		deadline = time.Now().Add(s.retryFor)
	}
	backoff := 5 * time.Millisecond
	for {
		err := fn(ctx)
		if err == nil || !transient(err) || ctx.Err() != nil {
			return translate(err)
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return translate(err)
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return translate(err)
		}
		backoff = min(backoff*2, time.Second)
	}
}

// transient reports whether an error is the database's passing trouble — a
// lost connection, a restart, a serialization failure or deadlock — after
// which the same work can be tried again.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", // serialization_failure
			"40P01", // deadlock_detected
			"55P03", // lock_not_available
			"57P01", // admin_shutdown
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now
			"53300", // too_many_connections
			"53400": // configuration_limit_exceeded
			return true
		}
		return len(pgErr.Code) >= 2 && pgErr.Code[:2] == "08" // connection_exception
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false // a misspelt host does not come back
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	return errors.As(err, &netErr) || errors.As(err, &connectErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || pgconn.SafeToRetry(err) ||
		strings.Contains(err.Error(), "conn closed")
}

// translate turns pgx's sentinels into klaxontype's.
func translate(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return klaxontype.ErrNotFound
	}
	return err
}

package klaxon

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// AuditFilter selects audit records: a record matches when it matches every
// field set. Zero fields do not filter.
type AuditFilter struct {
	// Since keeps the records at or after a time.
	Since  time.Time
	Actor  string
	Action klaxontype.AuditAction
	// BeforeID lists records older than this ID: the cursor of the next page.
	BeforeID int64
	// Limit caps a page; zero means 100.
	Limit int
}

// AuditLog lists the operator actions recorded in the audit log, newest
// first: every replay, resolve, discard, purge, cancel, breaker reset, outbox
// give-up, retention batch and Audited enqueue, and every request to an admin
// endpoint of the HTTP API, with who, when, on what, with which parameters and
// to what effect. An action is recorded in the transaction that carries it out, so a
// refused one leaves no record, and nothing deletes records.
func (c *Client) AuditLog(ctx context.Context, filter *AuditFilter) ([]*klaxontype.AuditRecord, error) {
	if filter == nil {
		filter = &AuditFilter{}
	}
	return c.store.AuditList(ctx, &store.AuditListParams{
		Since: filter.Since, Actor: filter.Actor, Action: filter.Action, BeforeID: filter.BeforeID, Limit: filter.Limit,
	})
}

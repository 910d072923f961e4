package store

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Audit reads the audit log: every operator action, written by the rule that
// carried it out, in the same transaction.
type Audit interface {
	// AuditList returns audit records matching every filter, newest first.
	AuditList(ctx context.Context, params *AuditListParams) ([]*klaxontype.AuditRecord, error)
	// AuditAppend records an action that has no write of its own to be
	// recorded with, such as a request to an admin endpoint, in a
	// transaction of its own.
	AuditAppend(ctx context.Context, params *AuditAppendParams) error
}

// AuditAppendParams is one record for AuditAppend; the store sets its time.
type AuditAppendParams struct {
	Actor  string
	Action klaxontype.AuditAction
	Target string
	// Params are the action's parameters, encoded as a JSON object.
	Params map[string]any
	Result string
}

// Validate refuses a record without an actor, a known action or a target.
// Its error matches klaxontype.ErrInvalid.
func (p *AuditAppendParams) Validate() error {
	if p.Actor == "" || p.Target == "" {
		return invalidf("an audit record needs an actor and a target")
	}
	if !p.Action.Valid() {
		return invalidf("%q is not an audited action", p.Action)
	}
	return nil
}

// AuditListParams filters AuditList. Zero fields do not filter.
type AuditListParams struct {
	// Since keeps the records at or after a time.
	Since  time.Time
	Actor  string
	Action klaxontype.AuditAction
	// BeforeID returns records older than this ID (cursor pagination).
	BeforeID int64
	// Limit caps the number of records; zero means DefaultPageLimit.
	Limit int
}

// Validate refuses an unknown action, which would otherwise match nothing.
// Its error matches klaxontype.ErrInvalid.
func (p *AuditListParams) Validate() error {
	if p.Action != "" && !p.Action.Valid() {
		return invalidf("%q is not an audited action", p.Action)
	}
	if p.Limit < 0 || p.BeforeID < 0 {
		return invalidf("an audit list needs a limit and a cursor of zero or more")
	}
	return nil
}

// PageLimit is the most records the list returns: Limit, or
// DefaultPageLimit when it is not set.
func (p *AuditListParams) PageLimit() int {
	if p.Limit == 0 {
		return DefaultPageLimit
	}
	return p.Limit
}

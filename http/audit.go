package http

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// AuditPage is a page of audit records, newest first.
type AuditPage struct {
	Records []*klaxontype.AuditRecord `json:"records"`
	// NextCursor, when set, fetches the next (older) page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// AuditQuery filters the audit log; zero fields do not filter.
type AuditQuery struct {
	Since  time.Time
	Actor  string
	Action klaxontype.AuditAction
	Limit  int
	Cursor string
}

type listAuditInput struct {
	Since  time.Time `query:"since" doc:"Only actions at or after this time (RFC 3339)"`
	Actor  string    `query:"actor" maxLength:"200" doc:"Only actions of this actor (a token's name, or a user)"`
	Action string    `query:"action" enum:"dlq.replay,dlq.resolve,dlq.discard,dlq.purge,run.cancel,breaker.reset,outbox.give_up,retention.delete,approval.decide,signal.send,schedule.create,schedule.pause,schedule.resume,schedule.delete,run.enqueue,admin.request,keys.rotate,redaction.drop" doc:"Only actions of this kind"`
	Limit  int       `query:"limit" minimum:"0" maximum:"1000" doc:"Records per page (default 100)"`
	Cursor string    `query:"cursor" pattern:"^[0-9]*$" doc:"next_cursor of the previous page"`
}

type listAuditOutput struct {
	Body AuditPage
}

func (s *Server) registerAudit() {
	register(s, ScopeAdmin, huma.Operation{
		OperationID: "list-audit", Method: http.MethodGet, Path: APIPrefix + "/audit",
		Summary: "The audit log: every operator action, newest first", Tags: []string{"audit"},
		Description: "Every replay, resolve, discard, purge, cancel, breaker reset, outbox give-up, retention batch and enqueue " +
			"through the API, recorded in the transaction that carried it out, and every request to an admin endpoint " +
			"(admin.request, with its status, this one included), with its actor, time, target, parameters and result.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *listAuditInput) (*listAuditOutput, error) {
		filter := &klaxon.AuditFilter{Since: input.Since, Actor: input.Actor, Action: klaxontype.AuditAction(input.Action), Limit: input.Limit}
		if input.Cursor != "" {
			cursor, err := strconv.ParseInt(input.Cursor, 10, 64)
			if err != nil {
				return nil, huma.Error422UnprocessableEntity("cursor is not a next_cursor of this API")
			}
			filter.BeforeID = cursor
		}
		records, err := s.client.AuditLog(ctx, filter)
		if err != nil {
			return nil, err
		}
		page := AuditPage{Records: orEmpty(records)}
		limit := input.Limit
		if limit == 0 {
			limit = 100
		}
		if len(records) == limit {
			page.NextCursor = strconv.FormatInt(records[len(records)-1].ID, 10)
		}
		return &listAuditOutput{Body: page}, nil
	})
}

// Audit lists a page of the audit log, newest first (scope admin).
func (c *Client) Audit(ctx context.Context, query *AuditQuery) (*AuditPage, error) {
	values := url.Values{}
	if query != nil {
		if !query.Since.IsZero() {
			values.Set("since", query.Since.UTC().Format(time.RFC3339Nano))
		}
		if query.Actor != "" {
			values.Set("actor", query.Actor)
		}
		if query.Action != "" {
			values.Set("action", string(query.Action))
		}
		if query.Limit != 0 {
			values.Set("limit", strconv.Itoa(query.Limit))
		}
		if query.Cursor != "" {
			values.Set("cursor", query.Cursor)
		}
	}
	var page AuditPage
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/audit", values, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

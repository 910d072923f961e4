package http

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// DeadLetterGroup counts the entries of one failure class routed to one
// channel.
type DeadLetterGroup struct {
	Class   klaxontype.FailureClass `json:"class"`
	Channel string                  `json:"channel"`
	Count   int                     `json:"count"`
}

// DeadLetterGroups is the dead-letter queue matching a filter, counted by
// class and channel.
type DeadLetterGroups struct {
	// Groups are ordered by class, then channel.
	Groups []*DeadLetterGroup `json:"groups"`
	// Total sums the groups' counts: every entry matching the filter.
	Total int `json:"total"`
}

type deadLetterGroupsInput struct {
	Class    []string  `query:"class" enum:"transient,rate_limited,timeout,permanent,policy_violation,context_overflow,semantic,budget_exceeded,partial_completion,nondeterminism,compensation_failed,cancelled" doc:"Only entries of these failure classes, comma-separated"`
	State    []string  `query:"state" enum:"open,replayed,resolved,discarded" doc:"Only entries in these states, comma-separated"`
	Workflow string    `query:"workflow" maxLength:"200" doc:"Only entries of this workflow"`
	Channel  string    `query:"channel" maxLength:"200" doc:"Only entries routed to this channel"`
	Entity   []string  `query:"entity,explode" doc:"Only entries whose run is labelled key=value; repeatable, all must match"`
	Since    time.Time `query:"since" doc:"Only entries created at or after this time (RFC 3339)"`
	Until    time.Time `query:"until" doc:"Only entries created before this time (RFC 3339)"`
}

type deadLetterGroupsOutput struct {
	Body DeadLetterGroups
}

func (s *Server) registerDeadLetterGroups() {
	register(s, ScopeRead, huma.Operation{
		OperationID: "count-dead-letters", Method: http.MethodGet, Path: APIPrefix + "/dlq/groups",
		Summary: "Count dead-letter entries by class and channel", Tags: []string{"dead-letter queue"},
		Description: "Takes the filters of GET /dlq; counts every matching entry, however many.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *deadLetterGroupsInput) (*deadLetterGroupsOutput, error) {
		params, err := deadLetterFilter(input.Class, input.State, input.Entity)
		if err != nil {
			return nil, err
		}
		params.Workflow, params.Channel = input.Workflow, input.Channel
		params.CreatedAfter, params.CreatedBefore = input.Since, input.Until
		groups, err := s.client.DeadLetterGroups(ctx, params)
		if err != nil {
			return nil, err
		}
		output := &deadLetterGroupsOutput{Body: DeadLetterGroups{Groups: []*DeadLetterGroup{}}}
		for _, group := range groups {
			output.Body.Groups = append(output.Body.Groups, &DeadLetterGroup{Class: group.Class, Channel: group.Channel, Count: group.Count})
			output.Body.Total += group.Count
		}
		return output, nil
	})
}

// DeadLetterGroups counts the entries matching the query's filter by class
// and channel, however many there are (scope read). A count has no pages and
// no run filter: a query with Run, Limit or Cursor set is refused before any
// request is sent.
func (c *Client) DeadLetterGroups(ctx context.Context, query *DeadLetterQuery) (*DeadLetterGroups, error) {
	if query != nil && (query.Run != "" || query.Limit != 0 || query.Cursor != "") {
		return nil, errors.New("klaxon http client: dead-letter groups count by filter only; Run, Limit and Cursor do not apply")
	}
	var groups DeadLetterGroups
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/dlq/groups", deadLetterFilterValues(query), nil, &groups); err != nil {
		return nil, err
	}
	return &groups, nil
}

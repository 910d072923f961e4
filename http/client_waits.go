package http

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// Signal sends a signal with a JSON payload to a run; key, when set, is
// the send's idempotency key.
func (c *Client) Signal(ctx context.Context, runID, name string, payload json.RawMessage, key string) (*klaxon.SignalResult, error) {
	var result klaxon.SignalResult
	path := APIPrefix + "/runs/" + url.PathEscape(runID) + "/signals/" + url.PathEscape(name)
	if err := c.doWithHeader(ctx, http.MethodPost, path, nil, idempotencyHeader(key), payload, &result); err != nil {
		return nil, err
	}
	return &result, nil
}

// SignalEntity sends a signal to the runs labelled with an entity.
func (c *Client) SignalEntity(ctx context.Context, entityKey, entityValue, name string, payload json.RawMessage, key string) ([]*klaxon.SignalResult, error) {
	var sent SignalsSent
	query := url.Values{"entity": {entityKey + "=" + entityValue}}
	path := APIPrefix + "/signals/" + url.PathEscape(name)
	if err := c.doWithHeader(ctx, http.MethodPost, path, query, idempotencyHeader(key), payload, &sent); err != nil {
		return nil, err
	}
	return sent.Results, nil
}

func idempotencyHeader(key string) http.Header {
	if key == "" {
		return nil
	}
	return http.Header{"Idempotency-Key": {key}}
}

// Approvals lists the approval requests waiting for a decision, oldest
// first; limit zero means the server's default.
func (c *Client) Approvals(ctx context.Context, limit int) ([]*klaxontype.Wait, error) {
	var page ApprovalPage
	var query url.Values
	if limit > 0 {
		query = url.Values{"limit": {strconv.Itoa(limit)}}
	}
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/approvals", query, nil, &page); err != nil {
		return nil, err
	}
	return page.Approvals, nil
}

// DecideApproval approves or rejects a run's approval request, as the
// client's token.
func (c *Client) DecideApproval(ctx context.Context, runID, name string, decision klaxon.Decision) (*klaxontype.ApprovalDecision, error) {
	request := &DecisionRequest{Decision: "reject", Comment: decision.Comment, Data: decision.Data}
	if decision.Approved {
		request.Decision = "approve"
	}
	var decided klaxontype.ApprovalDecision
	path := APIPrefix + "/runs/" + url.PathEscape(runID) + "/approvals/" + url.PathEscape(name)
	if err := c.do(ctx, http.MethodPost, path, nil, request, &decided); err != nil {
		return nil, err
	}
	return &decided, nil
}

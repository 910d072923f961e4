package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// Client calls a Klaxon server's API: the same operations, and the same
// errors, as the root package's client on a store.
type Client struct {
	baseURL string
	token   string
	http    *http.Client
}

// NewClient returns a client of the server at baseURL (http://host:port),
// presenting token when it is not empty. A nil httpClient means
// http.DefaultClient.
func NewClient(baseURL, token string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{baseURL: strings.TrimSuffix(baseURL, "/"), token: token, http: httpClient}
}

// Error is a problem the server answered with. It unwraps to the sentinel of
// klaxontype its status stands for (ErrNotFound for 404, ErrInvalid for 422,
// ErrEntryNotOpen for 409, ErrClosed for 503), so errors.Is works as it does
// against a store.
type Error struct {
	// Type is the problem's type: urn:klaxon:problem:NAME for the engine's
	// errors, empty for a malformed request.
	Type   string
	Status int
	Title  string
	Detail string
	// Problems are the individual validation failures, "where: what".
	Problems []string
}

// Error says the status, the title and what the server said was wrong.
func (e *Error) Error() string {
	message := fmt.Sprintf("server answered %d %s", e.Status, e.Title)
	if e.Detail != "" {
		message += ": " + e.Detail
	}
	if len(e.Problems) > 0 {
		message += " (" + strings.Join(e.Problems, "; ") + ")"
	}
	return message
}

// Unwrap returns the engine error the status stands for, or nil.
func (e *Error) Unwrap() error { return sentinelOf(e.Type, e.Status) }

// Ready returns nil when the server's store answers.
func (c *Client) Ready(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/readyz", nil, nil, nil)
}

// Enqueue creates a run, or returns the run the idempotency key already
// created (Deduplicated).
func (c *Client) Enqueue(ctx context.Context, request *EnqueueRequest) (*EnqueueResponse, error) {
	var response EnqueueResponse
	if err := c.do(ctx, http.MethodPost, APIPrefix+"/runs", nil, request, &response); err != nil {
		return nil, err
	}
	return &response, nil
}

// RunQuery filters Runs. Zero fields do not filter.
type RunQuery struct {
	Statuses []klaxontype.RunStatus
	Workflow string
	Entities map[string]string
	// Since and Until bound when the run was enqueued: Since inclusive,
	// Until exclusive.
	Since time.Time
	Until time.Time
	// Limit is the page size; zero means the server's default (50).
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
}

// Runs lists a page of runs, newest first.
func (c *Client) Runs(ctx context.Context, query *RunQuery) (*RunPage, error) {
	values := url.Values{}
	if query != nil {
		setList(values, "status", query.Statuses)
		setEntities(values, query.Entities)
		setString(values, "workflow", query.Workflow)
		setTime(values, "since", query.Since)
		setTime(values, "until", query.Until)
		setString(values, "cursor", query.Cursor)
		setInt(values, "limit", query.Limit)
	}
	var page RunPage
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/runs", values, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// Run returns a run with its step log, attempts, event log and manifest.
func (c *Client) Run(ctx context.Context, id string) (*RunDetail, error) {
	var detail RunDetail
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/runs/"+url.PathEscape(id), nil, nil, &detail); err != nil {
		return nil, err
	}
	return &detail, nil
}

// RunTree returns a run's parent and its descendants as a tree, as deep and
// as many per run as limits say (zero fields take the server's defaults).
func (c *Client) RunTree(ctx context.Context, id string, limits klaxon.TreeLimits) (*klaxontype.RunTree, error) {
	values := url.Values{}
	setInt(values, "depth", limits.Depth)
	setInt(values, "listed", limits.Listed)
	var tree klaxontype.RunTree
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/runs/"+url.PathEscape(id)+"/family", values, nil, &tree); err != nil {
		return nil, err
	}
	return &tree, nil
}

// Cancel cancels a run for good and returns it.
func (c *Client) Cancel(ctx context.Context, id, reason string) (*klaxontype.Run, error) {
	var run klaxontype.Run
	request := &CancelRequest{Reason: reason}
	if err := c.do(ctx, http.MethodPost, APIPrefix+"/runs/"+url.PathEscape(id)+"/cancel", nil, request, &run); err != nil {
		return nil, err
	}
	return &run, nil
}

// DeadLetterQuery filters DeadLetters. Zero fields do not filter.
type DeadLetterQuery struct {
	Classes  []klaxontype.FailureClass
	States   []klaxontype.DeadLetterState
	Workflow string
	Channel  string
	Entities map[string]string
	Since    time.Time
	Until    time.Time
	// Run keeps the entries of one run.
	Run string
	// Limit is the page size; zero means the server's default (50).
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
}

// DeadLetters lists a page of dead-letter entries, newest first.
func (c *Client) DeadLetters(ctx context.Context, query *DeadLetterQuery) (*DeadLetterPage, error) {
	values := deadLetterFilterValues(query)
	if query != nil {
		setString(values, "run", query.Run)
		setString(values, "cursor", query.Cursor)
		setInt(values, "limit", query.Limit)
	}
	var page DeadLetterPage
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/dlq", values, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// deadLetterFilterValues are the query parameters of a query's filter: the
// ones GET /dlq and GET /dlq/groups share.
func deadLetterFilterValues(query *DeadLetterQuery) url.Values {
	values := url.Values{}
	if query != nil {
		setList(values, "class", query.Classes)
		setList(values, "state", query.States)
		setEntities(values, query.Entities)
		setString(values, "workflow", query.Workflow)
		setString(values, "channel", query.Channel)
		setTime(values, "since", query.Since)
		setTime(values, "until", query.Until)
	}
	return values
}

// DeadLetter returns one entry with its attempts and deliveries.
func (c *Client) DeadLetter(ctx context.Context, id string) (*klaxontype.DeadLetter, error) {
	var entry klaxontype.DeadLetter
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/dlq/"+url.PathEscape(id), nil, nil, &entry); err != nil {
		return nil, err
	}
	return &entry, nil
}

// Replay replays an entry's run, or with DryRun only plans it.
func (c *Client) Replay(ctx context.Context, id string, request *ReplayRequest) (*ReplayResponse, error) {
	if request == nil {
		request = &ReplayRequest{}
	}
	var response ReplayResponse
	if err := c.do(ctx, http.MethodPost, APIPrefix+"/dlq/"+url.PathEscape(id)+"/replay", nil, request, &response); err != nil {
		return nil, err
	}
	return &response, nil
}

// ReplayMatching replays every open entry matching the request's filter, or
// with DryRun only lists them.
func (c *Client) ReplayMatching(ctx context.Context, request *BulkReplayRequest) (*klaxon.BulkReplayResult, error) {
	var result klaxon.BulkReplayResult
	if err := c.do(ctx, http.MethodPost, APIPrefix+"/dlq/replay", nil, request, &result); err != nil {
		return nil, err
	}
	return &result, nil
}

// DiscardMatching discards every open entry matching the request's filter,
// or with DryRun only lists them.
func (c *Client) DiscardMatching(ctx context.Context, request *BulkDiscardRequest) (*klaxon.BulkDiscardResult, error) {
	var result klaxon.BulkDiscardResult
	if err := c.do(ctx, http.MethodPost, APIPrefix+"/dlq/discard", nil, request, &result); err != nil {
		return nil, err
	}
	return &result, nil
}

// Resolve supplies the output of an entry's failed step.
func (c *Client) Resolve(ctx context.Context, id, step string, output json.RawMessage) (*klaxontype.DeadLetter, error) {
	var entry klaxontype.DeadLetter
	request := &ResolveRequest{Step: step, Output: output}
	if err := c.do(ctx, http.MethodPost, APIPrefix+"/dlq/"+url.PathEscape(id)+"/resolve", nil, request, &entry); err != nil {
		return nil, err
	}
	return &entry, nil
}

// Discard closes an entry without action.
func (c *Client) Discard(ctx context.Context, id, reason string) (*klaxontype.DeadLetter, error) {
	var entry klaxontype.DeadLetter
	request := &DiscardRequest{Reason: reason}
	if err := c.do(ctx, http.MethodPost, APIPrefix+"/dlq/"+url.PathEscape(id)+"/discard", nil, request, &entry); err != nil {
		return nil, err
	}
	return &entry, nil
}

// Workflows lists the workflows known to the store with their run counts.
func (c *Client) Workflows(ctx context.Context) ([]*WorkflowSummary, error) {
	var list WorkflowList
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/workflows", nil, nil, &list); err != nil {
		return nil, err
	}
	return list.Workflows, nil
}

// Stats returns the time series of runs, dead letters, cost, tokens and
// retries; the query's zero window and step take the server's defaults.
func (c *Client) Stats(ctx context.Context, query klaxon.StatsQuery) (*klaxontype.Stats, error) {
	values := url.Values{}
	if query.Window != 0 {
		values.Set("window", query.Window.String())
	}
	if query.Step != 0 {
		values.Set("step", query.Step.String())
	}
	setString(values, "workflow", query.Workflow)
	var stats klaxontype.Stats
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/stats", values, nil, &stats); err != nil {
		return nil, err
	}
	return &stats, nil
}

// Breakers lists every workflow breaker that ever tripped.
func (c *Client) Breakers(ctx context.Context) ([]*klaxontype.Breaker, error) {
	var list BreakerList
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/breakers", nil, nil, &list); err != nil {
		return nil, err
	}
	return list.Breakers, nil
}

// ResetBreaker closes a workflow's open breaker (scope admin).
func (c *Client) ResetBreaker(ctx context.Context, workflow string) error {
	return c.do(ctx, http.MethodPost, APIPrefix+"/breakers/"+url.PathEscape(workflow)+"/reset", nil, nil, nil)
}

// PurgeDeadLetters deletes the entries matching the request (scope admin)
// and returns how many.
func (c *Client) PurgeDeadLetters(ctx context.Context, request *PurgeRequest) (int, error) {
	var response PurgeResponse
	if err := c.do(ctx, http.MethodPost, APIPrefix+"/dlq/purge", nil, request, &response); err != nil {
		return 0, err
	}
	return response.Purged, nil
}

// do sends one request and decodes a 2xx answer into response, or a problem
// into an *Error.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, request, response any) error {
	return c.doWithHeader(ctx, method, path, query, nil, request, response)
}

// doWithHeader is do with request headers of its own.
func (c *Client) doWithHeader(ctx context.Context, method, path string, query url.Values, header http.Header, request, response any) error {
	target := c.baseURL + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body io.Reader
	if request != nil {
		encoded, err := json.Marshal(request)
		if err != nil {
			return err
		}
		body = bytes.NewReader(encoded)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return err
	}
	for name, values := range header {
		req.Header[name] = values
	}
	req.Header.Set("Accept", "application/json")
	if request != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return decodeProblem(resp.StatusCode, data)
	}
	if response == nil {
		return nil
	}
	if err := json.Unmarshal(data, response); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// decodeProblem reads an application/problem+json answer, or keeps whatever
// else came (a proxy's error page) as the detail.
func decodeProblem(status int, data []byte) error {
	var problem struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Errors []struct {
			Message  string `json:"message"`
			Location string `json:"location"`
		} `json:"errors"`
	}
	e := &Error{Status: status, Title: http.StatusText(status)}
	if err := json.Unmarshal(data, &problem); err != nil {
		e.Detail = strings.TrimSpace(string(data))
		return e
	}
	if problem.Title != "" {
		e.Title = problem.Title
	}
	e.Type, e.Detail = problem.Type, problem.Detail
	for _, detail := range problem.Errors {
		e.Problems = append(e.Problems, strings.TrimPrefix(detail.Location+": ", ": ")+detail.Message)
	}
	return e
}

func setString(values url.Values, key, value string) {
	if value != "" {
		values.Set(key, value)
	}
}

func setInt(values url.Values, key string, value int) {
	if value != 0 {
		values.Set(key, strconv.Itoa(value))
	}
}

func setTime(values url.Values, key string, value time.Time) {
	if !value.IsZero() {
		values.Set(key, value.Format(time.RFC3339Nano))
	}
}

func setList[T ~string](values url.Values, key string, list []T) {
	if len(list) > 0 {
		values.Set(key, strings.ReplaceAll(joinNames(list), ", ", ","))
	}
}

func setEntities(values url.Values, entities map[string]string) {
	for key, value := range entities {
		values.Add("entity", key+"="+value)
	}
}

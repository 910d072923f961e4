package scenarios_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// api is the harness's client of the server's public API: what an operator
// or a producer would use, never the store.
type api struct {
	base   string
	client *http.Client
}

// statusError is a refused request.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

func (a *api) call(ctx context.Context, method, path string, request, response any) error {
	var body io.Reader
	if request != nil {
		data, err := json.Marshal(request)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	httpRequest, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	if request != nil {
		httpRequest.Header.Set("Content-Type", "application/json")
	}
	httpResponse, err := a.client.Do(httpRequest)
	if err != nil {
		return err
	}
	defer httpResponse.Body.Close()
	data, err := io.ReadAll(httpResponse.Body)
	if err != nil {
		return err
	}
	if httpResponse.StatusCode >= 300 {
		return &statusError{status: httpResponse.StatusCode, body: string(data)}
	}
	if response == nil {
		return nil
	}
	if err := json.Unmarshal(data, response); err != nil {
		return fmt.Errorf("%s %s: decode %s: %w", method, path, data, err)
	}
	return nil
}

// enqueue creates a run of workflow. A workflow its worker has not registered
// yet is answered 404: the harness tries again for a while.
func (a *api) enqueue(ctx context.Context, workflow string, input any) (string, error) {
	inputJSON, err := json.Marshal(input)
	if err != nil {
		return "", err
	}
	var response klaxonhttp.EnqueueResponse
	err = eventually(ctx, 30*time.Second, func() (bool, error) {
		err := a.call(ctx, http.MethodPost, "/api/v1/runs", klaxonhttp.EnqueueRequest{Workflow: workflow, Input: inputJSON}, &response)
		var refused *statusError
		if errors.As(err, &refused) && refused.status == http.StatusNotFound {
			return false, err
		}
		return true, err
	})
	if err == nil && response.Run == nil {
		err = errors.New("enqueue answered no run")
	}
	if err != nil {
		return "", fmt.Errorf("enqueue %s: %w", workflow, err)
	}
	return response.Run.ID, nil
}

func (a *api) run(ctx context.Context, id string) (*klaxonhttp.RunDetail, error) {
	var detail klaxonhttp.RunDetail
	err := a.call(ctx, http.MethodGet, "/api/v1/runs/"+url.PathEscape(id), nil, &detail)
	return &detail, err
}

func terminal(status klaxontype.RunStatus) bool {
	return status == klaxontype.RunStatusCompleted || status == klaxontype.RunStatusDead || status == klaxontype.RunStatusCancelled
}

// awaitRun waits until the run has ended in an attempt after afterAttempt
// (0: any), and returns it.
func (a *api) awaitRun(ctx context.Context, id string, afterAttempt int, timeout time.Duration) (*klaxonhttp.RunDetail, error) {
	var detail *klaxonhttp.RunDetail
	err := eventually(ctx, timeout, func() (bool, error) {
		var err error
		detail, err = a.run(ctx, id)
		if err != nil {
			return false, err
		}
		run := detail.Run
		return terminal(run.Status) && run.Attempt > afterAttempt, fmt.Errorf("run %s is %s in attempt %d", id, run.Status, run.Attempt)
	})
	return detail, err
}

func (a *api) cancel(ctx context.Context, id string) error {
	return a.call(ctx, http.MethodPost, "/api/v1/runs/"+url.PathEscape(id)+"/cancel", klaxonhttp.CancelRequest{Reason: "scenario: cancel while running"}, nil)
}

// deadLetter is the run's last dead-letter entry, or nil.
func (a *api) deadLetter(ctx context.Context, runID string) (*klaxontype.DeadLetter, error) {
	var page klaxonhttp.DeadLetterPage
	if err := a.call(ctx, http.MethodGet, "/api/v1/dlq?"+url.Values{"run": {runID}}.Encode(), nil, &page); err != nil {
		return nil, err
	}
	if len(page.Entries) == 0 {
		return nil, nil
	}
	return page.Entries[0], nil // newest first
}

func (a *api) resolve(ctx context.Context, entryID, step string, output json.RawMessage) error {
	return a.call(ctx, http.MethodPost, "/api/v1/dlq/"+url.PathEscape(entryID)+"/resolve", klaxonhttp.ResolveRequest{Step: step, Output: output}, nil)
}

func (a *api) replayFromStep(ctx context.Context, entryID, step string) error {
	return a.call(ctx, http.MethodPost, "/api/v1/dlq/"+url.PathEscape(entryID)+"/replay",
		klaxonhttp.ReplayRequest{Mode: klaxontype.ReplayFromStep, Step: step}, nil)
}

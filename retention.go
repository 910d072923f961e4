package klaxon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// DefaultRetentionBatch is how many runs a retention batch deletes unless the
// policy says otherwise. A batch is one write transaction of some 14 rows a
// run. On SQLite it yields the writer to the hot path (it goes alone, when
// the writer is quiet or has given retention less than a twentieth of its time),
// so a claim waits at most for the one batch under way: smaller batches bound
// that wait, larger ones delete no faster (BenchmarkClaimsDuringRetention).
const DefaultRetentionBatch = 200

// RetentionPolicy says which ended runs retention deletes: those that
// finished more than OlderThan ago, of the workflows and statuses given. A
// run that is not ended, or has an open dead-letter entry, is never deleted.
type RetentionPolicy struct {
	OlderThan time.Duration
	// Workflows are the workflows whose runs to delete; empty means every
	// registered workflow.
	Workflows []string
	// Statuses are among completed, dead and cancelled; empty means all three.
	Statuses []klaxontype.RunStatus
	// Batch is how many runs one transaction deletes; zero means
	// DefaultRetentionBatch.
	Batch int
	// DryRun counts the runs that would be deleted (up to one batch of
	// store.MaxRetentionBatch per workflow) and deletes nothing.
	DryRun bool
	// Actor is who applies the policy, recorded in the audit log.
	Actor string
}

// RetentionResult is what applying a policy did, by workflow.
type RetentionResult struct {
	DryRun bool `json:"dry_run"`
	// Deleted counts the runs deleted (in a dry run, that would be).
	Deleted    int            `json:"deleted"`
	ByWorkflow map[string]int `json:"by_workflow"`
	// Exported counts the runs written to the export before deletion.
	Exported int `json:"exported"`
	// Capped is set in a dry run when a workflow has more expired runs than
	// one count reaches: Deleted is then a lower bound.
	Capped bool `json:"capped,omitempty"`
}

// ExportedRun is one line of a retention export (JSON Lines): a run with
// everything recorded of it, as it was when deleted.
type ExportedRun struct {
	Run      *klaxontype.Run          `json:"run"`
	Steps    []*klaxontype.StepRecord `json:"steps"`
	Events   []*klaxontype.Event      `json:"events"`
	Attempts []*klaxontype.Attempt    `json:"attempts"`
}

// ApplyRetention deletes, in bounded batches, the ended runs the policy
// selects, each batch with its steps, archived steps, events, attempts,
// closed dead-letter entries and notifications, and each recorded in the
// audit log. With export set, every run of a batch is written to it, one
// JSON line each, before the batch is deleted; a failed write stops before
// the deletion. Each batch commits on its own: retention stopped half-way
// and applied again finishes the job. progress, when set, is told after
// each batch.
func (c *Client) ApplyRetention(ctx context.Context, policy *RetentionPolicy, export io.Writer, progress func(workflow string, deleted int)) (*RetentionResult, error) {
	if err := checkRetention(policy); err != nil {
		return nil, err
	}
	workflows := policy.Workflows
	if len(workflows) == 0 {
		known, err := c.store.WorkflowList(ctx)
		if err != nil {
			return nil, err
		}
		for _, w := range known {
			workflows = append(workflows, w.Name)
		}
	}
	batch := policy.Batch
	if batch == 0 {
		batch = DefaultRetentionBatch
	}
	if policy.DryRun {
		batch = store.MaxRetentionBatch
	}
	before := time.Now().Add(-policy.OlderThan)
	rule := retentionRule(policy)
	result := &RetentionResult{DryRun: policy.DryRun, ByWorkflow: map[string]int{}}
	var encoder *json.Encoder
	if export != nil {
		encoder = json.NewEncoder(export)
	}
	for _, workflow := range workflows {
		for {
			ids, err := c.store.RunListExpired(ctx, &store.RunListExpiredParams{
				Workflow: workflow, FinishedBefore: before, Statuses: policy.Statuses, Limit: batch,
			})
			if err != nil {
				return result, err
			}
			if policy.DryRun {
				result.ByWorkflow[workflow] += len(ids)
				result.Deleted += len(ids)
				result.Capped = result.Capped || len(ids) == batch
				break
			}
			if len(ids) == 0 {
				break
			}
			if encoder != nil {
				if err := c.exportRuns(ctx, encoder, ids); err != nil {
					return result, fmt.Errorf("export before deleting runs of %s: %w", workflow, err)
				}
				result.Exported += len(ids)
			}
			deleted, err := c.store.RunsDelete(ctx, &store.RunsDeleteParams{IDs: ids, Actor: actorOr(policy.Actor), Rule: rule})
			if err != nil {
				return result, err
			}
			result.ByWorkflow[workflow] += len(deleted)
			result.Deleted += len(deleted)
			if progress != nil {
				progress(workflow, result.ByWorkflow[workflow])
			}
			if len(ids) < batch || len(deleted) == 0 {
				break
			}
		}
	}
	return result, nil
}

// exportRuns writes each run with its history as one JSON line.
func (c *Client) exportRuns(ctx context.Context, encoder *json.Encoder, ids []string) error {
	for _, id := range ids {
		run, err := c.store.RunGet(ctx, id)
		if err != nil {
			return err
		}
		line := &ExportedRun{Run: run}
		if line.Steps, err = c.store.StepList(ctx, id); err != nil {
			return err
		}
		if line.Events, err = c.store.EventList(ctx, id); err != nil {
			return err
		}
		if line.Attempts, err = c.store.AttemptList(ctx, id); err != nil {
			return err
		}
		if err := encoder.Encode(line); err != nil {
			return err
		}
	}
	return nil
}

// checkRetention refuses a policy that would delete what nobody meant to.
func checkRetention(policy *RetentionPolicy) error {
	if policy == nil || policy.OlderThan <= 0 {
		return fmt.Errorf("%w: a retention policy needs the age past which runs are deleted", klaxontype.ErrInvalid)
	}
	for _, status := range policy.Statuses {
		if !status.Terminal() {
			return fmt.Errorf("%w: retention deletes only ended runs: %q is not completed, dead or cancelled", klaxontype.ErrInvalid, status)
		}
	}
	if policy.Batch < 0 || policy.Batch > store.MaxRetentionBatch {
		return fmt.Errorf("%w: a retention batch of %d: give 1 to %d", klaxontype.ErrInvalid, policy.Batch, store.MaxRetentionBatch)
	}
	return nil
}

// retentionRule describes a policy for the audit log.
func retentionRule(policy *RetentionPolicy) string {
	statuses := "completed, dead or cancelled"
	if len(policy.Statuses) > 0 {
		names := make([]string, len(policy.Statuses))
		for i, status := range policy.Statuses {
			names[i] = string(status)
		}
		statuses = strings.Join(names, " or ")
	}
	return fmt.Sprintf("runs %s that finished more than %s ago", statuses, policy.OlderThan)
}

package engine

import (
	"context"
	"slices"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// doneStep is a step the attempt replayed from the log or checkpointed.
type doneStep struct {
	seq  int
	name string
}

// completionRecord is what the run came to as this attempt ends it in status
// (completed or dead; failure is a dead run's). It is built from what the
// attempt holds: the run as claimed (attempts, retries, spend and times so
// far), the steps replayed and checkpointed, and this attempt's failure. Only
// the failures of earlier attempts are not held; the attempt history is read
// for them, once, and only when there were earlier attempts.
func (a *attempt) completionRecord(status klaxontype.RunStatus, failure *klaxontype.RunFailure) *klaxontype.CompletionRecord {
	record := &klaxontype.CompletionRecord{
		Status: status, Attempts: a.run.Attempt, Retries: a.run.Retries,
		Spend:    a.run.Spend.Add(a.exec.attemptSpend()),
		Duration: time.Since(a.run.CreatedAt),
	}
	if failure != nil {
		record.FailureClass = failure.Class
	}
	a.exec.mu.Lock()
	done := slices.Clone(a.exec.done)
	a.exec.mu.Unlock()
	slices.SortFunc(done, func(x, y doneStep) int { return x.seq - y.seq })
	names := make([]string, len(done))
	for i, step := range done {
		names[i] = step.name
	}
	record.Manifest = klaxontype.NewStepManifest(a.workflow.ExpectedSteps, names)
	record.Steps = a.stepAttempts(done, status == klaxontype.RunStatusDead)
	return record
}

// stepAttempts counts the attempts of each step: one for each step done
// (none for an output a person supplied), one more for each failed attempt
// charged to it. Nil when the attempt history could not be read.
func (a *attempt) stepAttempts(done []doneStep, dead bool) []klaxontype.StepAttempts {
	completed := make([]klaxontype.CompletedStep, len(done))
	for i, step := range done {
		logged := a.exec.log[step.seq]
		completed[i] = klaxontype.CompletedStep{Seq: step.seq, Name: step.name, Resolved: logged != nil && logged.ResolvedBy != ""}
	}
	var failures []*klaxontype.Attempt
	if a.run.Attempt > 1 || (dead && a.failed == nil) {
		history, err := a.worker.config.Store.AttemptList(context.WithoutCancel(a.ctx), a.run.ID)
		if err != nil {
			a.worker.config.Logger.Warn("reading the attempt history failed; the completion record has no attempts per step",
				"worker", a.holder, "run", a.run.ID, "error", err)
			return nil
		}
		for _, failed := range history {
			// This attempt's own failure may already be in the history (a
			// run that compensated before going dead); a.failed has it when
			// this process recorded it.
			if failed.Attempt < a.run.Attempt || (dead && a.failed == nil && failed.Attempt == a.run.Attempt) {
				failures = append(failures, failed)
			}
		}
	}
	if a.failed != nil {
		failures = append(failures, a.failed)
	}
	return klaxontype.CountStepAttempts(completed, failures)
}

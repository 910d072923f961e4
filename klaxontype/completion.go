package klaxontype

import (
	"slices"
	"time"
)

// CompletionRecord is what a run came to, carried by its terminal event
// (run.completed, run.dead or run.cancelled) so that "did every expected step
// run, within the budget, in how many retries" is answered by one event rather
// than by reading the step log, the attempt history and the run together. The
// engine builds it from what it holds when the run completes or dies; the
// store builds it, with CompletionRecordOf, in the transaction that cancels a
// run, since a person may cancel from a process without the workflow's code.
type CompletionRecord struct {
	// Status is the run's terminal status: completed, dead or cancelled.
	Status RunStatus `json:"status"`
	// FailureClass is the class of a dead run's failure, cancelled for a
	// cancelled run; empty for a completed run.
	FailureClass FailureClass `json:"failure_class,omitempty"`
	// Manifest compares the steps that completed with the workflow's
	// expected ones.
	Manifest StepManifest `json:"manifest"`
	// Steps counts the attempts of every step that ran, completed or not, by
	// sequence number. It is nil when the attempt history could not be read
	// to attribute earlier attempts' failures.
	Steps []StepAttempts `json:"steps"`
	// Attempts counts the claims that executed the run, the last one
	// included: Run.Attempt when it ended.
	Attempts int `json:"attempts"`
	// Retries counts the retries scheduled after failed attempts.
	Retries int `json:"retries"`
	// Spend totals every attempt's model calls; its cost is "unknown", never
	// zero, when a call's price was not known.
	Spend Spend `json:"spend"`
	// Duration runs from the run's CreatedAt to the moment the engine
	// recorded its end (a moment before the store stamped FinishedAt), or to
	// the cancel: what the caller waited, queueing and retry backoffs
	// included. In JSON,
	// nanoseconds, as Attempt's. The times themselves are on the run and the
	// event, and are not repeated here: every record is written as its run
	// ends, and its size costs the store's writer.
	Duration time.Duration `json:"duration"`
}

// StepManifest compares a run's completed steps with its workflow's expected
// steps. Each list is empty, never null, when it has no names.
type StepManifest struct {
	// Expected is the workflow's step manifest; empty when it declares none.
	Expected []string `json:"expected"`
	// Executed names every step in the step log, each once, in the order of
	// its first sequence number: steps replayed from the log and steps
	// resolved by a person count, as they do for the manifest check.
	Executed []string `json:"executed"`
	// Missing lists the expected steps that are not in Executed.
	Missing []string `json:"missing"`
}

// Complete reports whether every expected step completed.
func (m StepManifest) Complete() bool { return len(m.Missing) == 0 }

// StepAttempts is how many times one step of a run was attempted.
type StepAttempts struct {
	Seq  int    `json:"seq"`
	Step string `json:"step"`
	// Attempts counts the run attempts that ran the step: each failed
	// attempt the history charges to it, and the one that completed it. A
	// step whose output a person supplied counts only its failures.
	Attempts int `json:"attempts"`
	// Completed is true when the step is in the step log.
	Completed bool `json:"completed"`
}

// StepAttemptsTotal sums the attempts of every step: the executions of step
// functions the run took.
func (r *CompletionRecord) StepAttemptsTotal() int {
	total := 0
	for _, s := range r.Steps {
		total += s.Attempts
	}
	return total
}

// NewStepManifest compares the names of a run's completed steps, in the order
// of their sequence numbers, with its workflow's expected steps. A name that
// completed more than once (a step called in a loop) is executed once.
func NewStepManifest(expected, completed []string) StepManifest {
	m := StepManifest{
		Expected: append([]string{}, expected...),
		Executed: make([]string, 0, len(completed)),
		Missing:  []string{},
	}
	for _, name := range completed {
		if !slices.Contains(m.Executed, name) {
			m.Executed = append(m.Executed, name)
		}
	}
	for _, name := range expected {
		if !slices.Contains(m.Executed, name) {
			m.Missing = append(m.Missing, name)
		}
	}
	return m
}

// CompletedStep is a step of a run's step log as the completion record counts
// its attempts.
type CompletedStep struct {
	Seq  int
	Name string
	// Resolved is true when a person supplied the step's output: no attempt
	// ran it to completion.
	Resolved bool
}

// CountStepAttempts counts the attempts of each step: one for each completed
// step (none for a step a person resolved), and one more for each failed
// attempt charged to it. A failure outside any step (StepSeq 0) is charged to
// none. The result is ordered by sequence number, and empty, never nil, when
// no step ran.
func CountStepAttempts(completed []CompletedStep, failures []*Attempt) []StepAttempts {
	steps := make([]StepAttempts, 0, len(completed)+1)
	for _, step := range completed {
		attempts := 1
		if step.Resolved {
			attempts = 0
		}
		steps = append(steps, StepAttempts{Seq: step.Seq, Step: step.Name, Attempts: attempts, Completed: true})
	}
	for _, failed := range failures {
		if failed.StepSeq == 0 {
			continue // the workflow body failed outside any step
		}
		i := slices.IndexFunc(steps, func(s StepAttempts) bool { return s.Seq == failed.StepSeq })
		if i < 0 {
			steps = append(steps, StepAttempts{Seq: failed.StepSeq, Step: failed.Step})
			i = len(steps) - 1
		}
		steps[i].Attempts++
	}
	slices.SortFunc(steps, func(x, y StepAttempts) int { return x.Seq - y.Seq })
	return steps
}

// CompletionRecordOf is the record of a run that has ended, built from what a
// store holds: the run as it ended (status, failure, attempts, retries,
// spend, CreatedAt and FinishedAt), its workflow's expected steps as last
// registered (none when it never was), its step log and its attempt history.
// A step a compensation ran for is not counted as executed: its work was
// undone, as the engine sees it. The record is exact only for a run whose
// holder can write nothing more, as after a cancel in the same transaction.
func CompletionRecordOf(run *Run, expected []string, log []*StepRecord, history []*Attempt) *CompletionRecord {
	record := &CompletionRecord{
		Status: run.Status, Attempts: run.Attempt, Retries: run.Retries,
		Spend: run.Spend, Duration: run.FinishedAt.Sub(run.CreatedAt),
	}
	if run.Failure != nil {
		record.FailureClass = run.Failure.Class
	}
	completed := make([]CompletedStep, 0, len(log))
	for _, step := range log {
		if step.Status == StepStatusCompleted {
			completed = append(completed, CompletedStep{Seq: step.Seq, Name: step.Name, Resolved: step.ResolvedBy != ""})
		}
	}
	slices.SortFunc(completed, func(x, y CompletedStep) int { return x.Seq - y.Seq })
	names := make([]string, len(completed))
	for i, step := range completed {
		names[i] = step.Name
	}
	record.Manifest = NewStepManifest(expected, names)
	record.Steps = CountStepAttempts(completed, history)
	return record
}

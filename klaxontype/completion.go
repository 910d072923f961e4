package klaxontype

import "time"

// CompletionRecord is what a run came to, carried by its terminal event
// (run.completed or run.dead) so that "did every expected step run, within
// the budget, in how many retries" is answered by one event rather than by
// reading the step log, the attempt history and the run together. The engine
// builds it from what it holds when the run ends.
type CompletionRecord struct {
	// Status is the run's terminal status: completed or dead.
	Status RunStatus `json:"status"`
	// FailureClass is the class of a dead run's failure; empty for a
	// completed run.
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
	// recorded its end (a moment before the store stamped FinishedAt): what
	// the caller waited, queueing and retry backoffs included. In JSON,
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

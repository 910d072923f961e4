package klaxontype

import "time"

// Attempt is one failed attempt of a run, kept in the run's attempt history so
// that a dead run shows every way it failed, not only the last.
type Attempt struct {
	RunID string `json:"run_id"`
	// Attempt is the run attempt that failed, from 1.
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	// Worker is the worker that ran the attempt.
	Worker string `json:"worker"`
	// Step and StepSeq name the failing step; empty when the workflow body
	// failed outside any step.
	Step    string       `json:"step,omitempty"`
	StepSeq int          `json:"step_seq,omitempty"`
	Class   FailureClass `json:"class"`
	Message string       `json:"message"`
	// ClassifiedBy names the rule that chose the class ("error" when the error
	// reported its own class, "deadline", "panic", "network", "lease",
	// "default").
	ClassifiedBy string `json:"classified_by"`
	// Duration is how long the attempt ran before it failed.
	Duration time.Duration `json:"duration"`
	// Stack is the goroutine stack of a panic.
	Stack string `json:"stack,omitempty"`
	// Spend is what the attempt's model calls cost outside completed steps
	// (a call whose answer failed validation, say).
	Spend Spend `json:"spend"`
}

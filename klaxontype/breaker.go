package klaxontype

import "time"

// Breaker is a workflow's circuit breaker. While it is open, nobody claims
// the workflow's pending and retrying runs: they wait, they are not dropped.
// It opens when a retry storm or a spend rate trips it, and closes when its
// cool-down ends or a person resets it.
type Breaker struct {
	Workflow string `json:"workflow"`
	// Open is true until Until passes or a person resets it.
	Open     bool      `json:"open"`
	Reason   string    `json:"reason"`
	OpenedAt time.Time `json:"opened_at"`
	// Until is when the cool-down ends and claims resume by themselves.
	Until    time.Time `json:"until"`
	OpenedBy string    `json:"opened_by"`
	ResetAt  time.Time `json:"reset_at,omitzero"`
	ResetBy  string    `json:"reset_by,omitempty"`
}

// BreakerPolicy says when a workflow's retry-storm breaker trips: when, over
// Window, at least MinAttempts attempts ended and at least FailureRate of them
// failed. It stays open for CoolDown. A zero policy never trips.
type BreakerPolicy struct {
	Window      time.Duration `json:"window"`
	MinAttempts int           `json:"min_attempts"`
	FailureRate float64       `json:"failure_rate"`
	CoolDown    time.Duration `json:"cool_down"`
}

// Enabled reports whether the policy can trip.
func (p BreakerPolicy) Enabled() bool { return p.Window > 0 && p.MinAttempts > 0 && p.FailureRate > 0 }

package klaxontype

import "time"

// Stats is a time series of what happened to runs, for the dashboard and
// `klaxon stats`: runs enqueued, runs that ended by terminal status with their
// spend and retries, and dead-letter entries by failure class, one bucket per
// step from From, ascending, every bucket present.
type Stats struct {
	// From is the start of the first bucket, a multiple of the step since the
	// Unix epoch (UTC).
	From time.Time `json:"from" doc:"Start of the first bucket, aligned to a multiple of step since the Unix epoch (UTC)"`
	// To is when the series was read; it falls in the last bucket.
	To time.Time `json:"to" doc:"Now: when the series was read; it falls in the last bucket"`
	// StepSeconds is the width of every bucket.
	StepSeconds int64 `json:"step_seconds" doc:"Width of every bucket in seconds"`
	// Workflow is the workflow the series counts; empty for all of them.
	Workflow string `json:"workflow" doc:"The workflow counted; empty for all workflows"`
	// Buckets are ascending; empty buckets are present with zeros.
	Buckets []*StatsBucket `json:"buckets" doc:"Ascending; every bucket present, zeros included"`
	// Now counts the runs that have not ended, by status, as of To: how
	// many wait to be claimed, run, back off, wait durably (on a timer, a
	// signal or an approval) or compensate.
	Now map[RunStatus]int `json:"now" doc:"Runs not ended, by status, when the series was read: pending, running, retrying, waiting, compensating; every one present"`
}

// StatsBucket is what happened in one time bucket. Runs are counted where
// they ended, with the status they ended in; a dead run replayed later is
// counted again where its replay ends, and its dead-letter entry stays where
// it was created.
type StatsBucket struct {
	// Start is the beginning of the bucket.
	Start time.Time `json:"start"`
	// RunsEnqueued counts the runs created in the bucket.
	RunsEnqueued int `json:"runs_enqueued" doc:"Runs created in the bucket"`
	// RunsByStatus counts the runs that ended in the bucket by terminal
	// status; completed, dead and cancelled are always present.
	RunsByStatus map[RunStatus]int `json:"runs_by_status" doc:"Runs that ended in the bucket, by terminal status; completed, dead and cancelled always present"`
	// DLQByClass counts the dead-letter entries created in the bucket by
	// failure class; only classes with entries are present.
	DLQByClass map[FailureClass]int `json:"dlq_by_class" doc:"Dead-letter entries created in the bucket, by failure class; only non-zero classes present"`
	// RunsFinished counts the runs that ended in the bucket.
	RunsFinished int `json:"runs_finished" doc:"Runs that ended in the bucket (completed, dead or cancelled)"`
	// CostUSD sums the cost of the runs that ended in the bucket and whose
	// cost is known.
	CostUSD float64 `json:"cost_usd" doc:"Known cost in US dollars of the runs that ended in the bucket"`
	// RunsUnknownCost counts the runs that ended in the bucket and whose cost
	// includes a model call of unknown price: they are not in CostUSD, never
	// counted as $0.
	RunsUnknownCost int `json:"runs_unknown_cost" doc:"Runs that ended in the bucket whose cost includes an unknown price; not in cost_usd, never counted as $0"`
	// CostPerRunUSD is CostUSD over the runs of known cost, 0 when there are
	// none.
	CostPerRunUSD float64 `json:"cost_per_run_usd" doc:"cost_usd / (runs_finished - runs_unknown_cost); 0 when none"`
	// InputTokens and OutputTokens sum the tokens of the runs that ended in
	// the bucket.
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	// TokensPerRun is input plus output tokens over RunsFinished, 0 when
	// none ended.
	TokensPerRun float64 `json:"tokens_per_run" doc:"(input_tokens + output_tokens) / runs_finished; 0 when none"`
	// Retries sums the retries of the runs that ended in the bucket.
	Retries int `json:"retries" doc:"Retries of the runs that ended in the bucket"`
	// RetriesPerRun is Retries over RunsFinished, 0 when none ended.
	RetriesPerRun float64 `json:"retries_per_run" doc:"retries / runs_finished; 0 when none"`
}

// NewStatsBucket returns an empty bucket starting at start, with every
// terminal status counted zero.
func NewStatsBucket(start time.Time) *StatsBucket {
	return &StatsBucket{
		Start: start,
		RunsByStatus: map[RunStatus]int{
			RunStatusCompleted: 0, RunStatusDead: 0, RunStatusCancelled: 0,
		},
		DLQByClass: map[FailureClass]int{},
	}
}

// SetRates computes the per-run figures from the bucket's totals, so that
// every store and client derives them the same way.
func (b *StatsBucket) SetRates() {
	b.CostPerRunUSD, b.TokensPerRun, b.RetriesPerRun = 0, 0, 0
	if known := b.RunsFinished - b.RunsUnknownCost; known > 0 {
		b.CostPerRunUSD = b.CostUSD / float64(known)
	}
	if b.RunsFinished > 0 {
		b.TokensPerRun = float64(b.InputTokens+b.OutputTokens) / float64(b.RunsFinished)
		b.RetriesPerRun = float64(b.Retries) / float64(b.RunsFinished)
	}
}

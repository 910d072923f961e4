package store

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Reports are the counts and series that metrics, alert rules and the
// dashboard read. The store aggregates; it does not hand rows to Go.
type Reports interface {
	// RunCountByStatus counts runs by status, optionally of one workflow.
	RunCountByStatus(ctx context.Context, params *RunCountByStatusParams) (map[klaxontype.RunStatus]int, error)
	// RunCountByWorkflowAndStatus counts every run by workflow and status in
	// one read: what RunCountByStatus of each workflow would say.
	RunCountByWorkflowAndStatus(ctx context.Context) (map[string]map[klaxontype.RunStatus]int, error)
	// EventCountSuppressed counts the duplicate.suppressed events by workflow:
	// writes of stale lease holders that the store refused, from every
	// process.
	EventCountSuppressed(ctx context.Context) (map[string]int, error)
	// DLQCount counts the dead-letter entries by workflow, class and state, in
	// that order: how many ever went dead of each class (every state summed,
	// until a purge deletes some), and how many still wait for a person.
	DLQCount(ctx context.Context) ([]*DLQCount, error)
	// DLQCountDeleted counts the dead-letter entries that retention or a
	// purge deleted, by workflow and class (State is empty): added to
	// DLQCount's, the entries ever created, a total that deletes do not lower.
	DLQCountDeleted(ctx context.Context) ([]*DLQCount, error)
	// RunSumByWorkflow sums, by workflow, the runs ever enqueued, their
	// attempts, retries and spend, those retention deleted included: totals
	// that only grow, for counters. It reads every run, so call it seldom
	// (the metrics collector caches it).
	RunSumByWorkflow(ctx context.Context) ([]*RunTotals, error)
	// DLQCountByClassAndChannel counts the entries matching the filters of
	// DLQList (its cursor and limit aside) by failure class and channel, in
	// that order: how the queue a person filters is made up.
	DLQCountByClassAndChannel(ctx context.Context, params *DLQListParams) ([]*DLQGroup, error)
	// DLQCountCreated counts the dead-letter entries created in [Since,
	// Until) by workflow and class, whatever their state now.
	DLQCountCreated(ctx context.Context, params *DLQCountCreatedParams) ([]*DLQCount, error)
	// OutboxCountPending counts the notifications not yet delivered nor given
	// up: the outbox's backlog.
	OutboxCountPending(ctx context.Context) (int, error)
	// SpendListBuckets sums, per time bucket, the spend, retries and count of a
	// workflow's runs that reached a terminal status in [Since, Until): the
	// cost and token trend of the workflow.
	SpendListBuckets(ctx context.Context, params *SpendSeriesParams) ([]*klaxontype.SpendBucket, error)
	// StatsListBuckets counts, per bucket of Step from Since, the runs enqueued,
	// the runs that ended by terminal status with their spend and retries,
	// and the dead-letter entries created by class, of one workflow or of
	// all. Every bucket is returned, empty ones with zeros, with its per-run
	// figures set; the store aggregates, it does not hand rows to Go.
	StatsListBuckets(ctx context.Context, params *StatsSeriesParams) ([]*klaxontype.StatsBucket, error)
	// RunListDurationPercentiles returns, per workflow, a percentile of the
	// enqueue-to-end durations of the runs that completed or went dead in
	// [Since, Until): the workflow's usual duration.
	RunListDurationPercentiles(ctx context.Context, params *RunDurationPercentileParams) ([]*RunDurationPercentile, error)
	// RunCountOverdue counts a workflow's unfinished runs that have waited or
	// worked past a cutoff, with the IDs of the oldest.
	RunCountOverdue(ctx context.Context, params *RunCountOverdueParams) (*RunOverdue, error)
	// RunGetActivity says when a worker last showed itself on a workflow's runs:
	// a claim or heartbeat of a held run, or a run that completed or went
	// dead.
	RunGetActivity(ctx context.Context, params *RunActivityParams) (*RunActivity, error)
}

// DLQCount is the number of dead-letter entries of one workflow, class and
// state.
type DLQCount struct {
	Workflow string
	Class    klaxontype.FailureClass
	State    klaxontype.DeadLetterState
	Count    int
}

// RunTotals are the sums over every run of one workflow, deleted runs
// included.
type RunTotals struct {
	Workflow string
	// Runs counts the runs enqueued (a restart is a new run; a replay is not).
	Runs int64
	// Attempts counts the runs' attempts: claims by any worker.
	Attempts int64
	// Retries counts the retries scheduled after failed attempts.
	Retries int64
	// Usage sums the tokens of the runs' model calls.
	Usage klaxontype.TokenUsage
	// CostUSD sums the dollars of the model calls whose price was known.
	CostUSD float64
	// ModelCalls counts the model calls reported.
	ModelCalls int64
	// RunsUnknownCost counts the runs with at least one model call of unknown
	// price, whose cost is missing from CostUSD.
	RunsUnknownCost int64
}

// DLQGroup is the number of dead-letter entries of one failure class routed
// to one channel.
type DLQGroup struct {
	Class   klaxontype.FailureClass
	Channel string
	Count   int
}

// SpendSeriesParams selects a workflow's spend trend.
type SpendSeriesParams struct {
	Workflow string
	Since    time.Time
	Until    time.Time
	// Bucket is the width of a bucket, at least a second.
	Bucket time.Duration
}

// RunCountByStatusParams selects the runs RunCountByStatus counts.
type RunCountByStatusParams struct {
	// Workflow counts the runs of one workflow; empty counts every run.
	Workflow string
}

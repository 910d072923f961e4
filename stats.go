package klaxon

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// Limits of a StatsQuery.
const (
	// DefaultStatsWindow is how far back a series reaches unless asked.
	DefaultStatsWindow = 24 * time.Hour
	// MaxStatsWindow is the furthest back a series reaches: 90 days.
	MaxStatsWindow = 90 * 24 * time.Hour
	// MinStatsStep is the narrowest bucket.
	MinStatsStep = time.Minute
	// MaxStatsBuckets is the most buckets in a series.
	MaxStatsBuckets = 1000
)

// StatsQuery selects the series Client.Stats returns.
type StatsQuery struct {
	// Window is how far back the series reaches: DefaultStatsWindow when
	// zero, at most MaxStatsWindow.
	Window time.Duration
	// Step is the width of a bucket: a whole number of seconds, at least
	// MinStatsStep, and at most MaxStatsBuckets in the window. Zero means the
	// window over 24, rounded up to a whole minute (1h for 24h).
	Step time.Duration
	// Workflow counts only its runs; empty counts every workflow.
	Workflow string
}

// StatsQueryError says which parameter of a stats query is wrong and why. It
// wraps klaxontype.ErrInvalid.
type StatsQueryError struct {
	// Param is "window" or "step".
	Param string
	// Problem says what is wrong with it.
	Problem string
}

// Error names the parameter and the problem.
func (e *StatsQueryError) Error() string { return e.Param + ": " + e.Problem }

// Unwrap makes the error an klaxontype.ErrInvalid.
func (e *StatsQueryError) Unwrap() error { return klaxontype.ErrInvalid }

// ParseStatsQuery reads a query from its text form, as the API's query
// parameters and the command's flags give it: window and step are Go
// durations (24h, 15m), empty for their defaults. It returns the query with
// its defaults filled in, or a *StatsQueryError.
func ParseStatsQuery(window, step, workflow string) (StatsQuery, error) {
	query := StatsQuery{Workflow: workflow}
	for _, param := range []struct {
		name, text string
		value      *time.Duration
	}{{"window", window, &query.Window}, {"step", step, &query.Step}} {
		if param.text == "" {
			continue
		}
		d, err := time.ParseDuration(param.text)
		if err != nil {
			return StatsQuery{}, &StatsQueryError{param.name, fmt.Sprintf("%q is not a duration such as 24h or 15m", param.text)}
		}
		if d <= 0 {
			return StatsQuery{}, &StatsQueryError{param.name, fmt.Sprintf("%q is not a positive duration", param.text)}
		}
		*param.value = d
	}
	return query.WithDefaults()
}

// WithDefaults returns the query with a zero window and step filled in, or a
// *StatsQueryError when a value is out of its limits.
func (q StatsQuery) WithDefaults() (StatsQuery, error) {
	switch {
	case q.Window == 0:
		q.Window = DefaultStatsWindow
	case q.Window < 0:
		return q, &StatsQueryError{"window", fmt.Sprintf("%s is not a positive duration", q.Window)}
	case q.Window > MaxStatsWindow:
		return q, &StatsQueryError{"window", fmt.Sprintf("%s is longer than %s (90 days)", q.Window, MaxStatsWindow)}
	}
	if q.Step == 0 {
		q.Step = ceilDuration(q.Window/24, time.Minute)
	}
	switch {
	case q.Step < MinStatsStep:
		return q, &StatsQueryError{"step", fmt.Sprintf("%s is shorter than %s", q.Step, MinStatsStep)}
	case q.Step%time.Second != 0:
		return q, &StatsQueryError{"step", fmt.Sprintf("%s is not a whole number of seconds", q.Step)}
	case bucketCount(q.Window, q.Step) > MaxStatsBuckets:
		return q, &StatsQueryError{"step", fmt.Sprintf("%s makes %d buckets of a %s window; at most %d (a step of at least %s)",
			q.Step, bucketCount(q.Window, q.Step), q.Window, MaxStatsBuckets, ceilDuration(q.Window/MaxStatsBuckets, time.Second))}
	}
	return q, nil
}

// Stats returns the time series of what happened to runs in the query's
// window: runs enqueued, runs that ended by status with their spend and
// retries, and dead-letter entries by class. Its buckets are aligned to
// multiples of the step since the Unix epoch; the last one holds now, and
// together they cover at least the window.
func (c *Client) Stats(ctx context.Context, query StatsQuery) (*klaxontype.Stats, error) {
	return statsAt(ctx, c.store, query, time.Now())
}

// statsAt is Stats as read at now.
func statsAt(ctx context.Context, st store.Reports, query StatsQuery, now time.Time) (*klaxontype.Stats, error) {
	query, err := query.WithDefaults()
	if err != nil {
		return nil, err
	}
	now = now.UTC().Truncate(time.Second)
	stepSeconds := int64(query.Step / time.Second)
	n := bucketCount(query.Window, query.Step)
	last := now.Unix() / stepSeconds * stepSeconds
	from := time.Unix(last-(n-1)*stepSeconds, 0).UTC()
	buckets, err := st.StatsListBuckets(ctx, &store.StatsSeriesParams{
		Workflow: query.Workflow, Since: from, Until: now.Add(time.Second), Step: query.Step,
	})
	if err != nil {
		return nil, err
	}
	counts, err := st.RunCountByStatus(ctx, &store.RunCountByStatusParams{Workflow: query.Workflow})
	if err != nil {
		return nil, err
	}
	open := make(map[klaxontype.RunStatus]int)
	for _, status := range klaxontype.RunStatuses() {
		if !status.Terminal() {
			open[status] = counts[status]
		}
	}
	return &klaxontype.Stats{From: from, To: now, StepSeconds: stepSeconds, Workflow: query.Workflow, Buckets: buckets, Now: open}, nil
}

// bucketCount is how many buckets of step it takes to cover window.
func bucketCount(window, step time.Duration) int64 {
	return int64((window + step - 1) / step)
}

// ceilDuration rounds d up to a multiple of unit.
func ceilDuration(d, unit time.Duration) time.Duration {
	return (d + unit - 1) / unit * unit
}

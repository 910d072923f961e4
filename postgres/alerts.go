package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// alertRow is a row of the alerts table.
type alertRow struct {
	ID             string     `db:"id"`
	Rule           string     `db:"rule"`
	Kind           string     `db:"kind"`
	Workflow       string     `db:"workflow"`
	Class          string     `db:"class"`
	Severity       string     `db:"severity"`
	State          string     `db:"state"`
	Summary        string     `db:"summary"`
	Value          float64    `db:"value"`
	Threshold      float64    `db:"threshold"`
	RunIDs         []string   `db:"run_ids"`
	StartedAt      time.Time  `db:"started_at"`
	ResolvedAt     *time.Time `db:"resolved_at"`
	LastNotifiedAt *time.Time `db:"last_notified_at"`
	Notifications  int        `db:"notifications"`
	UpdatedAt      time.Time  `db:"updated_at"`
}

func (r *alertRow) alert() *klaxontype.Alert {
	alert := &klaxontype.Alert{
		ID: r.ID, Rule: r.Rule, Kind: klaxontype.AlertKind(r.Kind), Workflow: r.Workflow,
		Class: klaxontype.FailureClass(r.Class), Severity: klaxontype.AlertSeverity(r.Severity),
		State: klaxontype.AlertState(r.State), Summary: r.Summary, Value: r.Value, Threshold: r.Threshold,
		StartedAt: r.StartedAt.UTC(), Notifications: r.Notifications, RunIDs: r.RunIDs, EvaluatedAt: r.UpdatedAt.UTC(),
	}
	if alert.RunIDs == nil {
		alert.RunIDs = []string{}
	}
	if r.ResolvedAt != nil {
		t := r.ResolvedAt.UTC()
		alert.ResolvedAt = &t
	}
	if r.LastNotifiedAt != nil {
		t := r.LastNotifiedAt.UTC()
		alert.LastNotifiedAt = &t
	}
	return alert
}

// queryAlert returns the one alert a statement returns, or nil when it
// returns none.
func queryAlert(ctx context.Context, q querier, query string, args ...any) (*klaxontype.Alert, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	row, err := pgx.CollectOneRow(rows, pgx.RowToAddrOfStructByName[alertRow])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return row.alert(), nil
}

// AlertList returns alerts newest first.
func (s *Store) AlertList(ctx context.Context, params *store.AlertListParams) ([]*klaxontype.Alert, error) {
	if err := store.CheckAlertList(params); err != nil {
		return nil, err
	}
	var states []string
	for _, state := range params.States {
		states = append(states, string(state))
	}
	limit := params.Limit
	if limit == 0 {
		limit = 100
	}
	var alerts []*klaxontype.Alert
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		alerts = []*klaxontype.Alert{}
		rows, err := q.Query(ctx, alertListSQL, states, orNull(params.ResolvedSince), limit)
		if err != nil {
			return err
		}
		list, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[alertRow])
		if err != nil {
			return err
		}
		for _, r := range list {
			alerts = append(alerts, r.alert())
		}
		return nil
	})
	return alerts, err
}

// DLQCountCreated counts the entries created in a time range by workflow and
// class.
func (s *Store) DLQCountCreated(ctx context.Context, params *store.DLQCountCreatedParams) ([]*store.DLQCount, error) {
	if !params.Since.Before(params.Until) {
		return nil, fmt.Errorf("%w: counting dead-letter entries needs since before until", klaxontype.ErrInvalid)
	}
	var counts []*store.DLQCount
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		counts = []*store.DLQCount{}
		rows, err := q.Query(ctx, dlqCountCreatedSQL, params.Since, params.Until)
		if err != nil {
			return err
		}
		var workflow, class string
		var count int
		_, err = pgx.ForEachRow(rows, []any{&workflow, &class, &count}, func() error {
			counts = append(counts, &store.DLQCount{Workflow: workflow, Class: klaxontype.FailureClass(class), Count: count})
			return nil
		})
		return err
	})
	return counts, err
}

// RunListDurationPercentiles computes a percentile of run durations per workflow.
func (s *Store) RunListDurationPercentiles(ctx context.Context, params *store.RunDurationPercentileParams) ([]*store.RunDurationPercentile, error) {
	if !params.Since.Before(params.Until) || params.Percentile < 1 || params.Percentile > 100 {
		return nil, fmt.Errorf("%w: a duration percentile needs since before until and a percentile from 1 to 100", klaxontype.ErrInvalid)
	}
	var percentiles []*store.RunDurationPercentile
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		percentiles = []*store.RunDurationPercentile{}
		rows, err := q.Query(ctx, runDurationPercentileSQL, params.Since, params.Until, params.Percentile)
		if err != nil {
			return err
		}
		var workflow string
		var runs, micros int64
		_, err = pgx.ForEachRow(rows, []any{&workflow, &runs, &micros}, func() error {
			percentiles = append(percentiles, &store.RunDurationPercentile{
				Workflow: workflow, Runs: int(runs), Duration: time.Duration(micros) * time.Microsecond,
			})
			return nil
		})
		return err
	})
	return percentiles, err
}

// RunCountOverdue counts a workflow's unfinished runs past a cutoff.
func (s *Store) RunCountOverdue(ctx context.Context, params *store.RunCountOverdueParams) (*store.RunOverdue, error) {
	if err := store.CheckRunCountOverdue(params); err != nil {
		return nil, err
	}
	statuses := make([]string, len(params.Statuses))
	for i, status := range params.Statuses {
		statuses[i] = string(status)
	}
	limit := params.Limit
	if limit == 0 {
		limit = store.MaxAlertRunIDs
	}
	var overdue *store.RunOverdue
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		overdue = &store.RunOverdue{RunIDs: []string{}}
		rows, err := q.Query(ctx, runCountOverdueSQL, params.Workflow, statuses,
			orNull(params.CreatedBefore), orNull(params.AvailableBefore), limit)
		if err != nil {
			return err
		}
		var id string
		var total int64
		_, err = pgx.ForEachRow(rows, []any{&id, &total}, func() error {
			overdue.RunIDs = append(overdue.RunIDs, id)
			overdue.Count = int(total)
			return nil
		})
		return err
	})
	return overdue, err
}

// RunGetActivity says when workers were last seen on a workflow's runs.
func (s *Store) RunGetActivity(ctx context.Context, params *store.RunActivityParams) (*store.RunActivity, error) {
	if params.Workflow == "" {
		return nil, fmt.Errorf("%w: run activity needs a workflow", klaxontype.ErrInvalid)
	}
	activity := &store.RunActivity{}
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		var lease, finished *time.Time
		if err := q.QueryRow(ctx, runActivitySQL, params.Workflow).Scan(&lease, &finished); err != nil {
			return err
		}
		activity.LastLeaseAt, activity.LastFinishedAt = utc(lease), utc(finished)
		return nil
	})
	return activity, err
}

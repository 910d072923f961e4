package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

func scanAlert(stmt *sqlite.Stmt) (*klaxontype.Alert, error) {
	alert := &klaxontype.Alert{
		ID:            stmt.GetText("id"),
		Rule:          stmt.GetText("rule"),
		Kind:          klaxontype.AlertKind(stmt.GetText("kind")),
		Workflow:      stmt.GetText("workflow"),
		Class:         klaxontype.FailureClass(stmt.GetText("class")),
		Severity:      klaxontype.AlertSeverity(stmt.GetText("severity")),
		State:         klaxontype.AlertState(stmt.GetText("state")),
		Summary:       stmt.GetText("summary"),
		Value:         stmt.GetFloat("value"),
		Threshold:     stmt.GetFloat("threshold"),
		StartedAt:     columnTime(stmt, "started_at"),
		EvaluatedAt:   columnTime(stmt, "updated_at"),
		Notifications: int(stmt.GetInt64("notifications")),
		RunIDs:        []string{},
	}
	if t := columnTime(stmt, "resolved_at"); !t.IsZero() {
		alert.ResolvedAt = &t
	}
	if t := columnTime(stmt, "last_notified_at"); !t.IsZero() {
		alert.LastNotifiedAt = &t
	}
	if err := json.Unmarshal([]byte(stmt.GetText("run_ids")), &alert.RunIDs); err != nil {
		return nil, fmt.Errorf("alert %s run IDs: %w", alert.ID, err)
	}
	return alert, nil
}

func getAlert(conn *sqlite.Conn, query string, args ...any) (*klaxontype.Alert, error) {
	var alert *klaxontype.Alert
	err := execute(conn, query, func(stmt *sqlite.Stmt) (err error) {
		alert, err = scanAlert(stmt)
		return err
	}, args...)
	return alert, err
}

// AlertList returns alerts newest first.
func (s *Store) AlertList(ctx context.Context, params *store.AlertListParams) ([]*klaxontype.Alert, error) {
	if err := store.CheckAlertList(params); err != nil {
		return nil, err
	}
	var states any
	if len(params.States) > 0 {
		text, err := json.Marshal(params.States)
		if err != nil {
			return nil, err
		}
		states = string(text)
	}
	limit := params.Limit
	if limit == 0 {
		limit = 100
	}
	alerts := []*klaxontype.Alert{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		alerts = alerts[:0]
		return execute(conn, alertListSQL, func(stmt *sqlite.Stmt) error {
			alert, err := scanAlert(stmt)
			if err != nil {
				return err
			}
			alerts = append(alerts, alert)
			return nil
		}, states, params.ResolvedSince, limit)
	})
	return alerts, err
}

// DLQCountCreated counts the entries created in a time range by workflow and
// class.
func (s *Store) DLQCountCreated(ctx context.Context, params *store.DLQCountCreatedParams) ([]*store.DLQCount, error) {
	if !params.Since.Before(params.Until) {
		return nil, fmt.Errorf("%w: counting dead-letter entries needs since before until", klaxontype.ErrInvalid)
	}
	counts := []*store.DLQCount{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		counts = counts[:0]
		return execute(conn, dlqCountCreatedSQL, func(stmt *sqlite.Stmt) error {
			counts = append(counts, &store.DLQCount{
				Workflow: stmt.ColumnText(0),
				Class:    klaxontype.FailureClass(stmt.ColumnText(1)),
				Count:    stmt.ColumnInt(2),
			})
			return nil
		}, params.Since, params.Until)
	})
	return counts, err
}

// RunListDurationPercentiles computes a percentile of run durations per workflow.
func (s *Store) RunListDurationPercentiles(ctx context.Context, params *store.RunDurationPercentileParams) ([]*store.RunDurationPercentile, error) {
	if !params.Since.Before(params.Until) || params.Percentile < 1 || params.Percentile > 100 {
		return nil, fmt.Errorf("%w: a duration percentile needs since before until and a percentile from 1 to 100", klaxontype.ErrInvalid)
	}
	percentiles := []*store.RunDurationPercentile{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		percentiles = percentiles[:0]
		return execute(conn, runDurationPercentileSQL, func(stmt *sqlite.Stmt) error {
			percentiles = append(percentiles, &store.RunDurationPercentile{
				Workflow: stmt.ColumnText(0),
				Runs:     stmt.ColumnInt(1),
				Duration: time.Duration(stmt.ColumnInt64(2)) * time.Microsecond,
			})
			return nil
		}, params.Since, params.Until, params.Percentile)
	})
	return percentiles, err
}

// RunCountOverdue counts a workflow's unfinished runs past a cutoff.
func (s *Store) RunCountOverdue(ctx context.Context, params *store.RunCountOverdueParams) (*store.RunOverdue, error) {
	if err := store.CheckRunCountOverdue(params); err != nil {
		return nil, err
	}
	statuses, err := json.Marshal(params.Statuses)
	if err != nil {
		return nil, err
	}
	limit := params.Limit
	if limit == 0 {
		limit = store.MaxAlertRunIDs
	}
	overdue := &store.RunOverdue{RunIDs: []string{}}
	err = s.read(ctx, func(conn *sqlite.Conn) error {
		overdue = &store.RunOverdue{RunIDs: []string{}}
		return execute(conn, runCountOverdueSQL, func(stmt *sqlite.Stmt) error {
			overdue.RunIDs = append(overdue.RunIDs, stmt.ColumnText(0))
			overdue.Count = stmt.ColumnInt(1)
			return nil
		}, params.Workflow, string(statuses), params.CreatedBefore, params.AvailableBefore, limit)
	})
	return overdue, err
}

// RunGetActivity says when workers were last seen on a workflow's runs.
func (s *Store) RunGetActivity(ctx context.Context, params *store.RunActivityParams) (*store.RunActivity, error) {
	if params.Workflow == "" {
		return nil, fmt.Errorf("%w: run activity needs a workflow", klaxontype.ErrInvalid)
	}
	activity := &store.RunActivity{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		return execute(conn, runActivitySQL, func(stmt *sqlite.Stmt) error {
			activity.LastLeaseAt = columnTime(stmt, "last_lease_at")
			activity.LastFinishedAt = columnTime(stmt, "last_finished_at")
			return nil
		}, params.Workflow)
	})
	return activity, err
}

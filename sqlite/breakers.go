package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

func scanBreaker(stmt *sqlite.Stmt) *klaxontype.Breaker {
	return &klaxontype.Breaker{
		Workflow: stmt.GetText("workflow"),
		Open:     stmt.GetText("state") == "open" && columnTime(stmt, "until").After(now()),
		Reason:   stmt.GetText("reason"),
		OpenedAt: columnTime(stmt, "opened_at"),
		Until:    columnTime(stmt, "until"),
		OpenedBy: stmt.GetText("opened_by"),
		ResetAt:  columnTime(stmt, "reset_at"),
		ResetBy:  stmt.GetText("reset_by"),
	}
}

func getBreaker(conn *sqlite.Conn, workflow string) (*klaxontype.Breaker, error) {
	var breaker *klaxontype.Breaker
	err := execute(conn, breakerGetSQL, func(stmt *sqlite.Stmt) error {
		breaker = scanBreaker(stmt)
		return nil
	}, workflow)
	return breaker, err
}

// BreakerTrip opens a workflow's breaker until a time.
func (s *Store) BreakerTrip(ctx context.Context, params *store.BreakerTripParams) (bool, error) {
	if params.Workflow == "" || params.Reason == "" || params.Actor == "" {
		return false, fmt.Errorf("%w: tripping a breaker needs a workflow, a reason and an actor", klaxontype.ErrInvalid)
	}
	opened := false
	err := s.writer.write(func(conn *sqlite.Conn) error {
		t := now()
		before, err := getBreaker(conn, params.Workflow)
		if err != nil {
			return err
		}
		opened = before == nil || !before.Open
		if err := execute(conn, breakerTripSQL, nil, params.Workflow, params.Reason, t, params.Until, params.Actor); err != nil {
			return err
		}
		if !opened {
			return nil
		}
		if len(params.Channels) > 0 {
			breaker, err := getBreaker(conn, params.Workflow)
			if err != nil {
				return err
			}
			payload, err := json.Marshal(breaker)
			if err != nil {
				return err
			}
			for _, channel := range params.Channels {
				if err := execute(conn, outboxInsertBreakerSQL, nil, channel, t, string(payload)); err != nil {
					return err
				}
			}
		}
		if params.RunID == "" {
			return nil
		}
		return insertEvent(conn, &klaxontype.Event{
			RunID: params.RunID, Type: klaxontype.EventBreakerTripped, Actor: params.Actor, At: t,
			Message: fmt.Sprintf("breaker of %s open until %s: %s", params.Workflow, params.Until.UTC().Format("2006-01-02T15:04:05Z"), params.Reason),
		})
	})
	return opened, err
}

// BreakerReset closes an open breaker.
func (s *Store) BreakerReset(ctx context.Context, params *store.BreakerResetParams) error {
	if params.Actor == "" {
		return fmt.Errorf("%w: resetting a breaker needs an actor", klaxontype.ErrInvalid)
	}
	return s.writer.write(func(conn *sqlite.Conn) error {
		if err := execute(conn, breakerResetSQL, nil, params.Workflow, now(), params.Actor); err != nil {
			return err
		}
		if conn.Changes() == 0 {
			return reject(fmt.Errorf("no open breaker for workflow %q: %w", params.Workflow, klaxontype.ErrNotFound))
		}
		return nil
	})
}

// BreakerList returns every breaker that ever tripped.
func (s *Store) BreakerList(ctx context.Context) ([]*klaxontype.Breaker, error) {
	breakers := []*klaxontype.Breaker{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		return execute(conn, breakerListSQL, func(stmt *sqlite.Stmt) error {
			breakers = append(breakers, scanBreaker(stmt))
			return nil
		})
	})
	return breakers, err
}

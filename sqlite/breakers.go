package sqlite

import (
	"context"

	"github.com/klaxonhq/klaxon/klaxontype"
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

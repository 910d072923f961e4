package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// BreakerList returns every breaker that ever tripped.
func (s *Store) BreakerList(ctx context.Context) ([]*klaxontype.Breaker, error) {
	breakers := []*klaxontype.Breaker{}
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, breakerListSQL)
		if err != nil {
			return err
		}
		rowsOf, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[breakerRow])
		if err != nil {
			return err
		}
		t := now()
		breakers = make([]*klaxontype.Breaker, len(rowsOf))
		for i, r := range rowsOf {
			breakers[i] = r.breaker(t)
		}
		return nil
	})
	return breakers, err
}

package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// WorkerRegister records a worker, replacing its earlier registration.
func (s *Store) WorkerRegister(ctx context.Context, params *store.WorkerRegisterParams) error {
	if err := params.Validate(); err != nil {
		return err
	}
	workflows := params.SortedWorkflows()
	return s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, workerRegisterSQL, params.ID, params.Language, params.SDKVersion, params.Runtime,
			workflows, now())
		return err
	})
}

// WorkerSeen moves a registered worker's last-seen time to now.
func (s *Store) WorkerSeen(ctx context.Context, params *store.WorkerSeenParams) error {
	if err := params.Validate(); err != nil {
		return err
	}
	return s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, workerSeenSQL, params.ID, now())
		return err
	})
}

// workerRow is a row of the workers registry.
type workerRow struct {
	ID           string    `db:"id"`
	Language     string    `db:"language"`
	SDKVersion   string    `db:"sdk_version"`
	Runtime      string    `db:"runtime"`
	Workflows    []string  `db:"workflows"`
	RegisteredAt time.Time `db:"registered_at"`
	LastSeenAt   time.Time `db:"last_seen_at"`
}

// WorkerList returns registered workers, the most recently seen first.
func (s *Store) WorkerList(ctx context.Context, params *store.WorkerListParams) ([]*klaxontype.Worker, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	workers := []*klaxontype.Worker{}
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, workerListSQL, params.PageLimit())
		if err != nil {
			return err
		}
		rowsOf, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[workerRow])
		if err != nil {
			return err
		}
		workers = make([]*klaxontype.Worker, len(rowsOf))
		for i, r := range rowsOf {
			workers[i] = &klaxontype.Worker{
				ID: r.ID, Language: r.Language, SDKVersion: r.SDKVersion, Runtime: r.Runtime, Workflows: r.Workflows,
				RegisteredAt: r.RegisteredAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(),
			}
			if workers[i].Workflows == nil {
				workers[i].Workflows = []string{}
			}
		}
		return nil
	})
	return workers, err
}

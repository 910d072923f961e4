package sqlite

import (
	"context"
	"encoding/json"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// WorkerRegister records a worker, replacing its earlier registration.
func (s *Store) WorkerRegister(ctx context.Context, params *store.WorkerRegisterParams) error {
	if err := params.Validate(); err != nil {
		return err
	}
	workflows, err := json.Marshal(params.SortedWorkflows())
	if err != nil {
		return err
	}
	return s.writer.write(func(conn *sqlite.Conn) error {
		return execute(conn, workerRegisterSQL, nil, params.ID, params.Language, params.SDKVersion, params.Runtime,
			string(workflows), now())
	})
}

// WorkerSeen moves a registered worker's last-seen time to now.
func (s *Store) WorkerSeen(ctx context.Context, params *store.WorkerSeenParams) error {
	if err := params.Validate(); err != nil {
		return err
	}
	return s.writer.write(func(conn *sqlite.Conn) error {
		return execute(conn, workerSeenSQL, nil, params.ID, now())
	})
}

// WorkerList returns registered workers, the most recently seen first.
func (s *Store) WorkerList(ctx context.Context, params *store.WorkerListParams) ([]*klaxontype.Worker, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	workers := []*klaxontype.Worker{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		workers = workers[:0]
		return execute(conn, workerListSQL, func(stmt *sqlite.Stmt) error {
			worker := &klaxontype.Worker{
				ID: stmt.GetText("id"), Language: stmt.GetText("language"), SDKVersion: stmt.GetText("sdk_version"),
				Runtime: stmt.GetText("runtime"), RegisteredAt: columnTime(stmt, "registered_at"),
				LastSeenAt: columnTime(stmt, "last_seen_at"),
			}
			if err := json.Unmarshal([]byte(stmt.GetText("workflows")), &worker.Workflows); err != nil {
				return err
			}
			if worker.Workflows == nil {
				worker.Workflows = []string{}
			}
			workers = append(workers, worker)
			return nil
		}, params.PageLimit())
	})
	return workers, err
}

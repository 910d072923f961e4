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

// RunFamily reads a run's parent and children.
func (s *Store) RunFamily(ctx context.Context, runID string) (*klaxontype.RunFamily, error) {
	var family *klaxontype.RunFamily
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		if _, err := (opener{s.keys}).collectRun(q.Query(ctx, runGetSQL, runID)); err != nil {
			if errors.Is(err, klaxontype.ErrNotFound) {
				return fmt.Errorf("run %s: %w", runID, klaxontype.ErrNotFound)
			}
			return err
		}
		family = &klaxontype.RunFamily{}
		parents, err := collectChildLinks(q.Query(ctx, childParentGetSQL, runID))
		if err != nil {
			return err
		}
		if len(parents) > 0 {
			family.Parent = parents[0]
		}
		family.Children, err = collectChildLinks(q.Query(ctx, childrenListSQL, runID))
		return err
	})
	if err != nil {
		return nil, err
	}
	return family, nil
}

type childLinkRow struct {
	ChildID   string    `db:"child_id"`
	ParentID  string    `db:"parent_id"`
	ParentSeq int       `db:"parent_seq"`
	CreatedAt time.Time `db:"created_at"`
	Workflow  string    `db:"workflow"`
	Status    string    `db:"status"`
	// ChildCount is read only with a run's children, not with its parent.
	ChildCount int `db:"child_count"`
}

func collectChildLinks(rows pgx.Rows, err error) ([]*klaxontype.ChildLink, error) {
	if err != nil {
		return nil, err
	}
	collected, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByNameLax[childLinkRow])
	if err != nil {
		return nil, err
	}
	links := make([]*klaxontype.ChildLink, len(collected))
	for i, r := range collected {
		links[i] = &klaxontype.ChildLink{
			ChildID: r.ChildID, ParentID: r.ParentID, ParentSeq: r.ParentSeq, CreatedAt: r.CreatedAt.UTC(),
			Workflow: r.Workflow, Status: klaxontype.RunStatus(r.Status), ChildCount: r.ChildCount,
		}
	}
	return links, nil
}

// insertChildLink records a new run's parent, in its enqueue's transaction.
func insertChildLink(ctx context.Context, tx pgx.Tx, params *store.RunEnqueueParams, at time.Time) error {
	if params.ParentID == "" {
		return nil
	}
	_, err := tx.Exec(ctx, childLinkInsertSQL, params.ID, params.ParentID, params.ParentSeq, at)
	return err
}

func (t *tx) RunCompleteHeld(ctx context.Context, params *store.RunCompleteParams, at time.Time) (bool, error) {
	tag, err := t.tx.Exec(ctx, runCompleteSQL, params.RunID, params.Epoch, params.Holder, t.keys.Seal(params.Output), at)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

func (t *tx) WaitOfChild(ctx context.Context, childID string) (*klaxontype.Wait, error) {
	return collectWait(t.tx.Query(ctx, waitOfChildSQL, childID))
}

func (t *tx) WaitsOpenCount(ctx context.Context, runID string, kind klaxontype.WaitKind) (int, error) {
	var open int64
	err := t.tx.QueryRow(ctx, waitsOpenCountSQL, runID, string(kind)).Scan(&open)
	return int(open), err
}

func (t *tx) ChildrenOpen(ctx context.Context, parentID string) ([]string, error) {
	rows, err := t.tx.Query(ctx, childrenOpenSQL, parentID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

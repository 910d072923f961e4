package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// RunFamily reads a run's parent and children.
func (s *Store) RunFamily(ctx context.Context, runID string) (*klaxontype.RunFamily, error) {
	family := &klaxontype.RunFamily{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		family = &klaxontype.RunFamily{Children: []*klaxontype.ChildLink{}}
		found := false
		if err := execute(conn, runGetSQL, func(*sqlite.Stmt) error { found = true; return nil }, runID); err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("run %s: %w", runID, klaxontype.ErrNotFound)
		}
		if err := execute(conn, childParentGetSQL, func(stmt *sqlite.Stmt) error {
			family.Parent = scanChildLink(stmt)
			return nil
		}, runID); err != nil {
			return err
		}
		return execute(conn, childrenListSQL, func(stmt *sqlite.Stmt) error {
			family.Children = append(family.Children, scanChildLink(stmt))
			return nil
		}, runID)
	})
	if err != nil {
		return nil, err
	}
	return family, nil
}

func scanChildLink(stmt *sqlite.Stmt) *klaxontype.ChildLink {
	return &klaxontype.ChildLink{
		ChildID: stmt.GetText("child_id"), ParentID: stmt.GetText("parent_id"), ParentSeq: int(stmt.GetInt64("parent_seq")),
		CreatedAt: columnTime(stmt, "created_at"), Workflow: stmt.GetText("workflow"),
		Status: klaxontype.RunStatus(stmt.GetText("status")), ChildCount: int(stmt.GetInt64("child_count")),
	}
}

// insertChildLink records a new run's parent, in its enqueue's transaction.
func insertChildLink(conn *sqlite.Conn, params *store.RunEnqueueParams, at time.Time) error {
	if params.ParentID == "" {
		return nil
	}
	return execute(conn, childLinkInsertSQL, nil, params.ID, params.ParentID, params.ParentSeq, at)
}

// RunComplete of a child run is a rule: its parent's wait is satisfied in
// the completion's transaction.
func (t *tx) RunCompleteHeld(_ context.Context, params *store.RunCompleteParams, at time.Time) (bool, error) {
	if err := execute(t.conn, runCompleteSQL, nil, params.RunID, params.Epoch, params.Holder, t.keys.Seal(params.Output), at); err != nil {
		return false, err
	}
	return t.conn.Changes() > 0, nil
}

func (t *tx) WaitOfChild(_ context.Context, childID string) (*klaxontype.Wait, error) {
	return getWait(t.conn, waitOfChildSQL, childID)
}

func (t *tx) WaitsOpenCount(_ context.Context, runID string, kind klaxontype.WaitKind) (int, error) {
	open := 0
	err := execute(t.conn, waitsOpenCountSQL, func(stmt *sqlite.Stmt) error {
		open = int(stmt.GetInt64("open"))
		return nil
	}, runID, string(kind))
	return open, err
}

func (t *tx) ChildrenOpen(_ context.Context, parentID string) ([]string, error) {
	var ids []string
	err := execute(t.conn, childrenOpenSQL, func(stmt *sqlite.Stmt) error {
		ids = append(ids, stmt.GetText("child_id"))
		return nil
	}, parentID)
	return ids, err
}

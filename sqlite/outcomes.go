package sqlite

import (
	"context"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// RunComplete marks a held run completed with its output.
func (s *Store) RunComplete(ctx context.Context, params *store.RunCompleteParams) error {
	if params.Child {
		return s.RunCompleteChild(ctx, params)
	}
	record, err := encodeRecord(params.Record)
	if err != nil {
		return err
	}
	return s.writer.write(func(conn *sqlite.Conn) error {
		t := now()
		if err := execute(conn, runCompleteSQL, nil, params.RunID, params.Epoch, params.Holder, s.keys.Seal(params.Output), t); err != nil {
			return err
		}
		if conn.Changes() == 0 {
			return suppress(conn, params.Lease, params.Holder, t, "completion", "", 0, klaxontype.ErrLeaseLost)
		}
		if err := addSpend(conn, params.RunID, params.Spend); err != nil {
			return err
		}
		return insertEventWithRecord(conn, &klaxontype.Event{
			RunID: params.RunID, Type: klaxontype.EventRunCompleted, Actor: params.Holder, At: t,
		}, record)
	})
}

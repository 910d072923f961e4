package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// errNoKeys refuses a rotation by a store opened without keys.
var errNoKeys = errors.New("sqlite: no encryption keys were given: a rotation needs the key ring, newest key last")

// checkKeys compares the ring with the check values the database keeps,
// before the store serves anything, and records those of new keys when
// record is set.
func checkKeys(conn *sqlite.Conn, keys *store.Keyring, record bool) error {
	stored, err := listKeys(conn)
	if err != nil {
		return err
	}
	toRecord, err := store.CheckKeyring(keys, stored)
	if err != nil {
		return err
	}
	if len(toRecord) == 0 || !record {
		return nil
	}
	defer sqlitex.Save(conn)(&err)
	for _, check := range toRecord {
		if err = execute(conn, encryptionKeyRecordSQL, nil, check.ID, check.Value, now()); err != nil {
			return err
		}
	}
	return nil
}

func listKeys(conn *sqlite.Conn) ([]store.KeyCheck, error) {
	var stored []store.KeyCheck
	err := execute(conn, encryptionKeysListSQL, func(stmt *sqlite.Stmt) error {
		stored = append(stored, store.KeyCheck{
			ID: stmt.GetText("id"), Value: columnBytes(stmt, "check_value"), Retired: stmt.GetInt64("retired") != 0,
		})
		return nil
	})
	return stored, err
}

// KeysList returns the keys the database was written with.
func (s *Store) KeysList(ctx context.Context) ([]store.KeyCheck, error) {
	var stored []store.KeyCheck
	err := s.read(ctx, func(conn *sqlite.Conn) (err error) {
		stored, err = listKeys(conn)
		return err
	})
	return stored, err
}

// KeysRetire retires every key but the newest and records the rotation.
func (s *Store) KeysRetire(ctx context.Context, params *store.KeysRetireParams) ([]string, error) {
	if s.keys == nil {
		return nil, errNoKeys
	}
	return s.Rules.KeysRetireRule(ctx, s.keys.Newest(), s.keys.SealedPrefix(), params)
}

func (t *tx) KeysRetire(_ context.Context, newest string, at time.Time) ([]string, error) {
	retired := []string{}
	err := execute(t.conn, encryptionKeysRetireSQL, func(stmt *sqlite.Stmt) error {
		retired = append(retired, stmt.GetText("id"))
		return nil
	}, newest, at)
	return retired, err
}

func (t *tx) KeysCountOlder(_ context.Context, newestPrefix []byte) (int, error) {
	older := 0
	err := execute(t.conn, keysCountOlderSQL, func(stmt *sqlite.Stmt) error {
		older = int(stmt.GetInt64("older"))
		return nil
	}, newestPrefix, len(newestPrefix))
	return older, err
}

// KeysRotateBatch re-seals the payloads of the next runs under the newest
// key, in one write of the writer: the writer is the only one to write, so
// no value changes between the read and the write here, but the compare in
// each update keeps the rule the same as PostgreSQL's.
func (s *Store) KeysRotateBatch(ctx context.Context, params *store.KeysRotateBatchParams) (*store.KeysRotateBatch, error) {
	if s.keys == nil {
		return nil, errNoKeys
	}
	prefix := s.keys.SealedPrefix()
	limit := params.BatchLimit()
	var batch *store.KeysRotateBatch
	err := s.writer.write(func(conn *sqlite.Conn) error {
		batch = &store.KeysRotateBatch{Last: params.After}
		r := &resealer{keys: s.keys, conn: conn, batch: batch}
		type runValues struct {
			id            string
			input, output []byte
		}
		var runs []runValues
		err := execute(conn, keysRotateRunsSQL, func(stmt *sqlite.Stmt) error {
			runs = append(runs, runValues{stmt.GetText("id"), columnBytes(stmt, "input"), columnBytes(stmt, "output")})
			return nil
		}, params.After, limit)
		if err != nil {
			return err
		}
		for _, run := range runs {
			batch.Last = run.id
			batch.Runs++
			if err := r.reseal(keysResealRunInputSQL, run.input, run.id); err != nil {
				return err
			}
			if err := r.reseal(keysResealRunOutputSQL, run.output, run.id); err != nil {
				return err
			}
		}
		batch.Done = batch.Runs < limit
		if batch.Runs > 0 {
			for _, table := range []struct {
				query, reseal, column string
				keyColumns            []string
			}{
				{keysRotateStepsSQL, keysResealStepSQL, "output", []string{"run_id", "seq"}},
				{keysRotateStepsArchiveSQL, keysResealStepArchivedSQL, "output", []string{"run_id", "generation", "seq"}},
				{keysRotateDlqEntriesSQL, keysResealDlqEntrySQL, "input", []string{"id"}},
				{keysRotateSignalsSQL, keysResealSignalSQL, "payload", []string{"id"}},
			} {
				if err := r.table(table.query, table.reseal, table.column, table.keyColumns, params.After, batch.Last, prefix, len(prefix)); err != nil {
					return err
				}
			}
		}
		if params.After == "" {
			return r.table(keysRotateSchedulesSQL, keysResealScheduleSQL, "input", []string{"name"}, prefix, len(prefix))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return batch, nil
}

// resealer re-seals the values of one batch.
type resealer struct {
	keys  *store.Keyring
	conn  *sqlite.Conn
	batch *store.KeysRotateBatch
	// pending holds the rows a select found: SQLite must finish the select
	// before the same connection updates the table it reads.
	pending [][]any
}

// table re-seals the column of the rows a query selects, identified by
// keyColumns, with the statement reseal (keys, new value, old value).
func (r *resealer) table(query, reseal, column string, keyColumns []string, args ...any) error {
	r.pending = r.pending[:0]
	err := execute(r.conn, query, func(stmt *sqlite.Stmt) error {
		row := make([]any, 0, len(keyColumns)+1)
		for _, key := range keyColumns {
			switch stmt.ColumnType(stmt.ColumnIndex(key)) {
			case sqlite.TypeInteger:
				row = append(row, stmt.GetInt64(key))
			default:
				row = append(row, stmt.GetText(key))
			}
		}
		r.pending = append(r.pending, append(row, columnBytes(stmt, column)))
		return nil
	}, args...)
	if err != nil {
		return err
	}
	for _, row := range r.pending {
		if err := r.reseal(reseal, row[len(row)-1].([]byte), row[:len(row)-1]...); err != nil {
			return err
		}
	}
	return nil
}

// reseal writes one value under the newest key unless it already is, only
// if it still holds what was read.
func (r *resealer) reseal(query string, old []byte, keys ...any) error {
	resealed, changed, err := r.keys.Reseal(old)
	if err != nil {
		return fmt.Errorf("sqlite: re-sealing %v: %w", keys, err)
	}
	if !changed {
		return nil
	}
	if err := execute(r.conn, query, nil, append(keys, resealed, old)...); err != nil {
		return err
	}
	if r.conn.Changes() == 0 {
		r.batch.Missed++
		return nil
	}
	r.batch.Resealed++
	return nil
}

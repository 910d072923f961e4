package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/store"
)

// errNoKeys refuses a rotation by a store opened without keys.
var errNoKeys = errors.New("postgres: no encryption keys were given: a rotation needs the key ring, newest key last")

// checkKeys compares the ring with the check values the database keeps,
// before the store serves anything, and records those of new keys when
// record is set. Two processes starting at once with a new key both record
// it: the first check value stays, and each process checks its own secret
// against it again.
func (s *Store) checkKeys(ctx context.Context, record bool) error {
	stored, err := listKeys(ctx, s.pool)
	if err != nil {
		return err
	}
	toRecord, err := store.CheckKeyring(s.keys, stored)
	if err != nil || len(toRecord) == 0 || !record {
		return err
	}
	for _, check := range toRecord {
		if _, err := s.pool.Exec(ctx, encryptionKeyRecordSQL, check.ID, check.Value, now()); err != nil {
			return err
		}
	}
	if stored, err = listKeys(ctx, s.pool); err != nil {
		return err
	}
	_, err = store.CheckKeyring(s.keys, stored)
	return err
}

func listKeys(ctx context.Context, q querier) ([]store.KeyCheck, error) {
	rows, err := q.Query(ctx, encryptionKeysListSQL)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.KeyCheck, error) {
		var check store.KeyCheck
		err := row.Scan(&check.ID, &check.Value, &check.Retired)
		return check, err
	})
}

// KeysList returns the keys the database was written with.
func (s *Store) KeysList(ctx context.Context) ([]store.KeyCheck, error) {
	var stored []store.KeyCheck
	err := s.read(ctx, func(ctx context.Context, q querier) (err error) {
		stored, err = listKeys(ctx, q)
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

func (t *tx) KeysRetire(ctx context.Context, newest string, at time.Time) ([]string, error) {
	rows, err := t.tx.Query(ctx, encryptionKeysRetireSQL, newest, at)
	if err != nil {
		return nil, err
	}
	retired, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if retired == nil {
		retired = []string{}
	}
	return retired, err
}

func (t *tx) KeysCountOlder(ctx context.Context, newestPrefix []byte) (int, error) {
	var older int
	err := t.tx.QueryRow(ctx, keysCountOlderSQL, newestPrefix, len(newestPrefix)).Scan(&older)
	return older, err
}

// KeysRotateBatch re-seals the payloads of the next runs under the newest
// key in one transaction of its own, beside the engine's writers. Each
// update writes only if the value is still the one read, so a value the
// engine rewrote meanwhile keeps what the engine wrote.
func (s *Store) KeysRotateBatch(ctx context.Context, params *store.KeysRotateBatchParams) (*store.KeysRotateBatch, error) {
	if s.keys == nil {
		return nil, errNoKeys
	}
	prefix := s.keys.SealedPrefix()
	limit := params.BatchLimit()
	var batch *store.KeysRotateBatch
	err := s.transact(ctx, func(ctx context.Context, pgTx pgx.Tx) error {
		batch = &store.KeysRotateBatch{Last: params.After}
		r := &resealer{keys: s.keys, tx: pgTx, batch: batch}
		type runValues struct {
			id            string
			input, output []byte
		}
		rows, err := pgTx.Query(ctx, keysRotateRunsSQL, params.After, limit)
		if err != nil {
			return err
		}
		runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (runValues, error) {
			var v runValues
			err := row.Scan(&v.id, &v.input, &v.output)
			return v, err
		})
		if err != nil {
			return err
		}
		for _, run := range runs {
			batch.Last = run.id
			batch.Runs++
			if err := r.reseal(ctx, keysResealRunInputSQL, run.input, run.id); err != nil {
				return err
			}
			if err := r.reseal(ctx, keysResealRunOutputSQL, run.output, run.id); err != nil {
				return err
			}
		}
		batch.Done = batch.Runs < limit
		if batch.Runs > 0 {
			for _, table := range []struct {
				query, reseal string
				keys          int
			}{
				{keysRotateStepsSQL, keysResealStepSQL, 2},
				{keysRotateStepsArchiveSQL, keysResealStepArchivedSQL, 3},
				{keysRotateDlqEntriesSQL, keysResealDlqEntrySQL, 1},
				{keysRotateSignalsSQL, keysResealSignalSQL, 1},
			} {
				if err := r.table(ctx, table.query, table.reseal, table.keys, params.After, batch.Last, prefix, len(prefix)); err != nil {
					return err
				}
			}
		}
		if params.After == "" {
			return r.table(ctx, keysRotateSchedulesSQL, keysResealScheduleSQL, 1, prefix, len(prefix))
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
	tx    pgx.Tx
	batch *store.KeysRotateBatch
}

// table re-seals the value in the last column of the rows a query selects,
// identified by the columns before it, with the statement reseal (key
// columns, new value, old value).
func (r *resealer) table(ctx context.Context, query, reseal string, keyColumns int, args ...any) error {
	rows, err := r.tx.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) ([]any, error) {
		return row.Values()
	})
	if err != nil {
		return err
	}
	for _, row := range found {
		old, _ := row[keyColumns].([]byte)
		if err := r.reseal(ctx, reseal, old, row[:keyColumns]...); err != nil {
			return err
		}
	}
	return nil
}

// reseal writes one value under the newest key unless it already is, only
// if it still holds what was read.
func (r *resealer) reseal(ctx context.Context, query string, old []byte, keys ...any) error {
	resealed, changed, err := r.keys.Reseal(old)
	if err != nil {
		return fmt.Errorf("postgres: re-sealing %v: %w", keys, err)
	}
	if !changed {
		return nil
	}
	tag, err := r.tx.Exec(ctx, query, append(keys, resealed, old)...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		r.batch.Missed++
		return nil
	}
	r.batch.Resealed++
	return nil
}

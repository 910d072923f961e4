package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// DLQList returns entries matching every filter, newest first.
func (s *Store) DLQList(ctx context.Context, params *store.DLQListParams) ([]*klaxontype.DeadLetter, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	query, args, err := dlqListQuery(params)
	if err != nil {
		return nil, err
	}
	var entries []*klaxontype.DeadLetter
	err = s.read(ctx, func(conn *sqlite.Conn) error {
		entries, err = listDeadLetters(conn, s.keys, query, args)
		return err
	})
	return entries, err
}

func listDeadLetters(conn *sqlite.Conn, keys *store.Keyring, query string, args []any) ([]*klaxontype.DeadLetter, error) {
	var entries []*klaxontype.DeadLetter
	err := execute(conn, query, func(stmt *sqlite.Stmt) error {
		entry, err := scanDeadLetter(stmt, keys)
		if err != nil {
			return err
		}
		entries = append(entries, entry)
		return nil
	}, args...)
	return entries, err
}

// dlqListQuery picks the statement whose index drives the most selective
// filter given: a class filter walks the class index, a state filter the state
// index, otherwise entries are walked by ID. The other filters apply as they go.
func dlqListQuery(params *store.DLQListParams) (string, []any, error) {
	classes := params.Classes
	if classes == nil {
		classes = []klaxontype.FailureClass{}
	}
	states := params.States
	if states == nil {
		states = []klaxontype.DeadLetterState{}
	}
	entities := params.Entities
	if entities == nil {
		entities = map[string]string{}
	}
	classesJSON, err := json.Marshal(classes)
	if err != nil {
		return "", nil, err
	}
	statesJSON, err := json.Marshal(states)
	if err != nil {
		return "", nil, err
	}
	entitiesJSON, err := json.Marshal(entities)
	if err != nil {
		return "", nil, err
	}
	index, driver := params.Index()
	query := dlqListQueries[index]
	args := []any{string(classesJSON), string(statesJSON), params.Workflow, params.Channel,
		micros(params.CreatedAfter), micros(params.CreatedBefore), params.BeforeID, string(entitiesJSON), params.PageLimit()}
	if index != store.DLQListByID {
		args = append(args, driver)
	}
	return query, args, nil
}

// dlqListQueries are the list statements, by the index that drives them.
var dlqListQueries = map[store.DLQListIndex]string{
	store.DLQListByID: dlqListByIdSQL, store.DLQListByRun: dlqListByRunSQL,
	store.DLQListByClass: dlqListByClassSQL, store.DLQListByState: dlqListByStateSQL,
}

// micros is a time as Unix microseconds, zero for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// DLQGet returns one entry with its run's attempts and its deliveries.
func (s *Store) DLQGet(ctx context.Context, id string) (*klaxontype.DeadLetter, error) {
	var entry *klaxontype.DeadLetter
	err := s.read(ctx, func(conn *sqlite.Conn) (err error) {
		entry, err = getDeadLetter(conn, s.keys, id, true)
		return err
	})
	return entry, err
}

// getDeadLetter reads an entry; with details, also its attempts and deliveries.
func getDeadLetter(conn *sqlite.Conn, keys *store.Keyring, id string, details bool) (*klaxontype.DeadLetter, error) {
	var entry *klaxontype.DeadLetter
	err := execute(conn, dlqGetSQL, func(stmt *sqlite.Stmt) (err error) {
		entry, err = scanDeadLetter(stmt, keys)
		return err
	}, id)
	if err != nil {
		return nil, err
	}
	if entry == nil {
		return nil, fmt.Errorf("dead-letter entry %s: %w", id, klaxontype.ErrNotFound)
	}
	if !details {
		return entry, nil
	}
	err = execute(conn, attemptListSQL, func(stmt *sqlite.Stmt) error {
		entry.Attempts = append(entry.Attempts, scanAttempt(stmt))
		return nil
	}, entry.RunID)
	if err != nil {
		return nil, err
	}
	err = execute(conn, outboxOfEntrySQL, func(stmt *sqlite.Stmt) error {
		entry.Deliveries = append(entry.Deliveries, scanDelivery(stmt))
		return nil
	}, entry.ID)
	return entry, err
}

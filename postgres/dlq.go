package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// DLQList returns entries matching every filter, newest first.
func (s *Store) DLQList(ctx context.Context, params *store.DLQListParams) ([]*klaxontype.DeadLetter, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	query, args := dlqListQuery(params)
	var entries []*klaxontype.DeadLetter
	err := s.read(ctx, func(ctx context.Context, q querier) (err error) {
		entries, err = opener{s.keys}.collectDeadLetters(q.Query(ctx, query, args...))
		return err
	})
	return entries, err
}

// dlqListQuery picks the statement whose index drives the most selective
// filter given: a class filter walks the class index, a state filter the state
// index, otherwise entries are walked by ID. The other filters apply as they go.
func dlqListQuery(params *store.DLQListParams) (string, []any) {
	classes := make([]string, len(params.Classes))
	for i, class := range params.Classes {
		classes[i] = string(class)
	}
	states := make([]string, len(params.States))
	for i, state := range params.States {
		states[i] = string(state)
	}
	entities := params.Entities
	if entities == nil {
		entities = map[string]string{}
	}
	index, driver := params.Index()
	query := dlqListQueries[index]
	// Each list is planned for the filters it was given: a plan cached for
	// any parameters cannot know which filters are empty, and PostgreSQL's
	// generic plan for these statements reads the whole entity index or walks
	// every entry newer than the cursor.
	args := []any{pgx.QueryExecModeCacheDescribe, classes, states, params.Workflow, params.Channel,
		orNull(params.CreatedAfter), orNull(params.CreatedBefore), params.BeforeID, entities, params.PageLimit()}
	if index != store.DLQListByID {
		args = append(args, driver)
	}
	return query, args
}

// dlqListQueries are the list statements, by the index that drives them.
var dlqListQueries = map[store.DLQListIndex]string{
	store.DLQListByID: dlqListByIdSQL, store.DLQListByRun: dlqListByRunSQL,
	store.DLQListByClass: dlqListByClassSQL, store.DLQListByState: dlqListByStateSQL,
}

// DLQGet returns one entry with its run's attempts and its deliveries.
func (s *Store) DLQGet(ctx context.Context, id string) (*klaxontype.DeadLetter, error) {
	var entry *klaxontype.DeadLetter
	err := s.read(ctx, func(ctx context.Context, q querier) (err error) {
		entry, err = getDeadLetter(ctx, q, s.keys, id, true)
		return err
	})
	return entry, err
}

// getDeadLetter reads an entry; with details, also its attempts and deliveries.
func getDeadLetter(ctx context.Context, q querier, keys *store.Keyring, id string, details bool) (*klaxontype.DeadLetter, error) {
	return readDeadLetter(ctx, q, keys, dlqGetSQL, id, details)
}

// readDeadLetter reads the entry a statement selects by ID.
func readDeadLetter(ctx context.Context, q querier, keys *store.Keyring, query, id string, details bool) (*klaxontype.DeadLetter, error) {
	entries, err := opener{keys}.collectDeadLetters(q.Query(ctx, query, id))
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("dead-letter entry %s: %w", id, klaxontype.ErrNotFound)
	}
	entry := entries[0]
	if !details {
		return entry, nil
	}
	attempts, err := collectAttempts(q.Query(ctx, attemptListSQL, entry.RunID))
	if err != nil {
		return nil, err
	}
	entry.Attempts = append(entry.Attempts, attempts...)
	rows, err := q.Query(ctx, outboxOfEntrySQL, entry.ID)
	if err != nil {
		return nil, err
	}
	deliveries, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[deliveryRow])
	if err != nil {
		return nil, err
	}
	for _, d := range deliveries {
		entry.Deliveries = append(entry.Deliveries, d.delivery())
	}
	return entry, nil
}

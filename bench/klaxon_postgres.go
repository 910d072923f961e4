package main

import (
	"context"
	"errors"

	"github.com/klaxonhq/klaxon/store"
)

// errPending marks a scenario whose engine cannot run yet.
var errPending = errors.New("pending: Klaxon's PostgreSQL store is not built yet")

// openKlaxonPostgres opens Klaxon's PostgreSQL store in the schema the URL's
// search_path names.
func openKlaxonPostgres(ctx context.Context, postgresURL string) (store.Store, error) {
	return nil, errPending
}

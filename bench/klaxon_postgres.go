package main

import (
	"context"

	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/store"
)

// openKlaxonPostgres opens Klaxon's PostgreSQL store, with its default
// options, in the schema the URL's search_path names.
func openKlaxonPostgres(ctx context.Context, postgresURL string) (store.Store, error) {
	return postgres.Open(ctx, postgresURL, nil)
}

// Package pgtest gives tests of any package a PostgreSQL schema of their own
// on the server KLAXON_TEST_POSTGRES_URL names. It may import only the
// standard library and github.com/jackc/pgx/v5: it is for tests (it imports
// testing), never for programs.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// URLEnv names the environment variable that holds the test server's URL;
// .ci/run sets it.
const URLEnv = "KLAXON_TEST_POSTGRES_URL"

// DatabaseURL is the test server's URL. Without it the test is skipped with a
// message that says so, never passed silently.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(URLEnv)
	if base == "" {
		t.Skip(URLEnv + " is not set: skipping the PostgreSQL tests (.ci/run sets it)")
	}
	return base
}

// SchemaURL makes a new schema, named prefix and a random suffix, for one
// test, drops it when the test ends, and returns a URL whose search_path
// selects it; it skips the test as DatabaseURL does.
func SchemaURL(t testing.TB, prefix string) string {
	t.Helper()
	base := DatabaseURL(t)
	random := make([]byte, 6)
	_, _ = rand.Read(random)
	schema := prefix + hex.EncodeToString(random)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", URLEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

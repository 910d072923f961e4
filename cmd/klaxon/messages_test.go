package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// A command that only looks, given a database in a directory that does not
// exist, says the database does not exist: before, it said it could not
// create one, which it never meant to.
func TestReadCommandsSayTheDatabaseIsMissing(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "no-such-dir", "klaxon.db")
	for _, args := range [][]string{{"runs", "list"}, {"dlq", "list"}} {
		code, _, stderr := run(t, nil, append(args, "--db", db)...)
		if code == exitOK || !strings.Contains(stderr, "does not exist") || strings.Contains(stderr, "cannot create") {
			t.Errorf("%v on a missing directory: exit %d: %s", args, code, stderr)
		}
	}
}

// An error of the library, which begins with "klaxon: " itself, is printed
// with the prefix once, not as "klaxon: klaxon: ...".
func TestErrorsArePrefixedOnce(t *testing.T) {
	t.Parallel()
	for err, want := range map[error]string{
		errors.New("klaxon: client already started"): "klaxon: client already started",
		errors.New("run nope not found"):             "klaxon: run nope not found",
	} {
		if got := errorLine(err); got != want {
			t.Errorf("errorLine(%q) = %q; want %q", err, got, want)
		}
	}
}

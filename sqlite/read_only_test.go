package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/sqlite"
)

// A database the user cannot write is refused with a message that says so
// and what to do, not with the SQL text of the statement that failed.
func TestReadOnlyDatabaseIsExplained(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("SKIP: running as root, which writes any file: a read-only database cannot be made")
	}
	dir := filepath.Join(t.TempDir(), "db")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "klaxon.db")
	st, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, dir} {
		if err := os.Chmod(name, 0o555); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
	_, err = sqlite.Open(context.Background(), path, &sqlite.Options{MustExist: true, NoMigrate: true})
	if err == nil {
		t.Fatal("a read-only database opened")
	}
	if msg := err.Error(); !strings.Contains(msg, "read-only") || strings.Contains(msg, "SELECT") {
		t.Errorf("error %q; want it to say read-only, without SQL", msg)
	}
}

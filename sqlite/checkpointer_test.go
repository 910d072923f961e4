package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"zombiezen.com/go/sqlite"
)

// The writer never copies the write-ahead log back into the database file
// (its automatic checkpoint is off); the checkpointer does, soon after the
// commit, so the log does not grow without bound and the file holds what was
// written.
func TestCheckpointerCopiesTheLogBack(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "checkpoint.db")
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := fileSize(t, path)
	// 8 MB of pages, written through the writer like every write.
	err = s.writer.write(func(conn *sqlite.Conn) error {
		if err := execute(conn, "CREATE TABLE ballast (b BLOB)", nil); err != nil {
			return err
		}
		return execute(conn, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
			INSERT INTO ballast SELECT randomblob(4000) FROM n`, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for fileSize(t, path) < before+8_000_000 {
		if time.Now().After(deadline) {
			t.Fatalf("the database file is %d bytes 10s after 8 MB were committed (%d before): the log was not copied back",
				fileSize(t, path), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

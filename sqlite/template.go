package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/klaxonhq/klaxon/internal/migrationfile"
	"zombiezen.com/go/sqlite"
)

// freshSchema is the image of a database this process created and migrated
// from nothing, before any key or row was written to it. A process that
// creates many databases (a test suite creates hundreds) migrates the first
// and copies the image for the others: applying every migration costs tens
// of milliseconds, and over half a second under the race detector.
var freshSchema struct {
	sync.Mutex
	image []byte
}

// keepFreshSchema records the image of a database just migrated from nothing.
func keepFreshSchema(conn *sqlite.Conn) error {
	freshSchema.Lock()
	defer freshSchema.Unlock()
	if freshSchema.image != nil {
		return nil
	}
	image, err := conn.Serialize("main")
	if err != nil {
		return fmt.Errorf("keep the migrated schema: %w", err)
	}
	freshSchema.image = image
	return nil
}

// createFromFreshSchema writes the kept image at path when nothing is there
// yet, and reports whether it did. It writes a temporary file beside path and
// links it into place, so a crash leaves no half-written database and a
// database another process created meanwhile is never overwritten.
func createFromFreshSchema(path string) (bool, error) {
	freshSchema.Lock()
	image := freshSchema.image
	freshSchema.Unlock()
	if image == nil || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return false, nil
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	temp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".new-*")
	if err != nil {
		return false, nil // let Open create it and say what is wrong
	}
	defer os.Remove(temp.Name())
	if _, err := temp.Write(image); err != nil {
		temp.Close()
		return false, err
	}
	if err := temp.Sync(); err != nil {
		temp.Close()
		return false, err
	}
	if err := temp.Close(); err != nil {
		return false, err
	}
	if err := os.Link(temp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// allMigrations lists the versions of every embedded migration: those a
// database created from the kept image has had applied.
func allMigrations() []int {
	list, err := migrationfile.List(migrationFiles, "migrations")
	if err != nil {
		return nil
	}
	return migrationfile.Versions(list)
}

// Package migrationfile reads a store's schema migrations: numbered files
// NNNN_name.sql embedded in the binary, applied in the order of their numbers.
// Each store applies them its own way; listing them is written here once.
//
// It may import only the standard library.
package migrationfile

import (
	"cmp"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one numbered schema change, read from a file NNNN_name.sql.
type Migration struct {
	// Version is the file's number: it orders the migrations, and a store
	// records it once the migration is applied.
	Version int
	// Name is the rest of the file's name, without .sql.
	Name string
	// SQL is the file's text.
	SQL string
}

// List reads the migrations in dir of fsys, oldest first. A file not named
// NNNN_name.sql is an error, so that a misnamed migration is not skipped.
func List(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	list := make([]Migration, 0, len(entries))
	for _, entry := range entries {
		number, name, ok := strings.Cut(strings.TrimSuffix(entry.Name(), ".sql"), "_")
		version, err := strconv.Atoi(number)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.sql", entry.Name())
		}
		text, err := fs.ReadFile(fsys, path.Join(dir, entry.Name()))
		if err != nil {
			return nil, err
		}
		list = append(list, Migration{Version: version, Name: name, SQL: string(text)})
	}
	slices.SortFunc(list, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	return list, nil
}

// Newest returns the version of the newest migration in dir of fsys: the
// schema version a binary holding them knows. It is 0 when there are none or
// they cannot be listed.
func Newest(fsys fs.FS, dir string) int {
	list, err := List(fsys, dir)
	if err != nil || len(list) == 0 {
		return 0
	}
	return list[len(list)-1].Version
}

// Missing returns the migrations of list whose versions are not in recorded,
// oldest first. It looks at every version, not only those above the newest
// recorded, so that a migration merged after a newer one was applied is
// still applied rather than silently skipped.
func Missing(list []Migration, recorded []int) []Migration {
	var missing []Migration
	for _, m := range list {
		if !slices.Contains(recorded, m.Version) {
			missing = append(missing, m)
		}
	}
	return missing
}

// Versions lists the versions of migrations, in their order.
func Versions(migrations []Migration) []int {
	versions := make([]int, len(migrations))
	for i, m := range migrations {
		versions[i] = m.Version
	}
	return versions
}

package migrationfile

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestListOrdersByNumber(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"migrations/0010_alerts.sql":  {Data: []byte("CREATE TABLE alerts ();")},
		"migrations/0002_spend.sql":   {Data: []byte("ALTER TABLE runs;")},
		"migrations/0001_initial.sql": {Data: []byte("CREATE TABLE runs ();")},
	}
	list, err := List(fsys, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	want := []Migration{
		{Version: 1, Name: "initial", SQL: "CREATE TABLE runs ();"},
		{Version: 2, Name: "spend", SQL: "ALTER TABLE runs;"},
		{Version: 10, Name: "alerts", SQL: "CREATE TABLE alerts ();"},
	}
	if len(list) != len(want) {
		t.Fatalf("listed %+v", list)
	}
	for i := range want {
		if list[i] != want[i] {
			t.Errorf("migration %d is %+v, want %+v", i, list[i], want[i])
		}
	}
	if newest := Newest(fsys, "migrations"); newest != 10 {
		t.Errorf("Newest is %d, want 10", newest)
	}
}

func TestListRefusesAMisnamedFile(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"migrations/initial.sql": {Data: []byte("")}}
	if _, err := List(fsys, "migrations"); err == nil || !strings.Contains(err.Error(), "NNNN_name.sql") {
		t.Errorf("a misnamed file: %v", err)
	}
	if newest := Newest(fsys, "migrations"); newest != 0 {
		t.Errorf("Newest of a misnamed file is %d, want 0", newest)
	}
	if newest := Newest(fstest.MapFS{}, "migrations"); newest != 0 {
		t.Errorf("Newest of no migrations is %d, want 0", newest)
	}
}

func TestMissingIncludesAVersionBelowTheNewestRecorded(t *testing.T) {
	t.Parallel()
	list := []Migration{{Version: 1}, {Version: 2}, {Version: 3}, {Version: 4}}
	missing := Versions(Missing(list, []int{1, 3}))
	if len(missing) != 2 || missing[0] != 2 || missing[1] != 4 {
		t.Errorf("missing %v, want [2 4]: migration 2 was merged after 3 was applied", missing)
	}
	if missing := Missing(list, []int{1, 2, 3, 4}); len(missing) != 0 {
		t.Errorf("missing %v of a database that has them all", Versions(missing))
	}
}

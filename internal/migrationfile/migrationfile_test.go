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

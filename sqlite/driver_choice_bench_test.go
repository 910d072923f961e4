package sqlite

// These benchmarks record why the store is built on zombiezen.com/go/sqlite
// rather than modernc.org/sqlite through database/sql: both are the same pure-Go
// SQLite, and the store's hot path is a group commit of many small inserts in
// one transaction with synchronous=FULL. See docs/benchmarks.md.

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

const (
	driverBenchSchema = `CREATE TABLE steps (run_id TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL,
		output BLOB, epoch INTEGER NOT NULL, PRIMARY KEY (run_id, seq))`
	driverBenchInsert = `INSERT INTO steps (run_id, seq, name, output, epoch) VALUES (?, ?, ?, ?, ?)`
	// rowsPerCommit is about the batch size the group-committing writer reaches at
	// 256 concurrent runs.
	rowsPerCommit = 130
)

var driverBenchOutput = []byte(`{"ok":true}`)

// BenchmarkDriverGroupCommitZombiezen measures rows per second written in
// transactions of rowsPerCommit rows through the zombiezen API.
func BenchmarkDriverGroupCommitZombiezen(b *testing.B) {
	conn, err := sqlite.OpenConn(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", driverBenchSchema} {
		if err := sqlitex.ExecuteTransient(conn, q, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i += rowsPerCommit {
		if err := sqlitex.ExecuteTransient(conn, "BEGIN IMMEDIATE", nil); err != nil {
			b.Fatal(err)
		}
		stmt := conn.Prep(driverBenchInsert)
		for j := 0; j < rowsPerCommit; j++ {
			stmt.BindText(1, fmt.Sprintf("run-%d", i+j))
			stmt.BindInt64(2, 1)
			stmt.BindText(3, "extract")
			stmt.BindBytes(4, driverBenchOutput)
			stmt.BindInt64(5, 1)
			if _, err := stmt.Step(); err != nil {
				b.Fatal(err)
			}
			if err := stmt.Reset(); err != nil {
				b.Fatal(err)
			}
		}
		if err := sqlitex.ExecuteTransient(conn, "COMMIT", nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkDriverGroupCommitDatabaseSQL measures the same workload through
// modernc.org/sqlite's database/sql driver.
func BenchmarkDriverGroupCommitDatabaseSQL(b *testing.B) {
	db, err := sql.Open("sqlite", filepath.Join(b.TempDir(), "bench.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(driverBenchSchema); err != nil {
		b.Fatal(err)
	}
	stmt, err := db.Prepare(driverBenchInsert)
	if err != nil {
		b.Fatal(err)
	}
	defer stmt.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i += rowsPerCommit {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		txStmt := tx.Stmt(stmt)
		for j := 0; j < rowsPerCommit; j++ {
			if _, err := txStmt.Exec(fmt.Sprintf("run-%d", i+j), 1, "extract", driverBenchOutput, 1); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

package sqlite

import (
	"fmt"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// execute runs one cached statement with positional arguments and calls each
// for every row it returns.
func execute(conn *sqlite.Conn, query string, each func(*sqlite.Stmt) error, args ...any) error {
	// Statements come from .sql files ending in a newline, which SQLite would
	// report as trailing bytes.
	stmt, err := conn.Prepare(strings.TrimSpace(query))
	if err != nil {
		return err
	}
	// Every call binds all of a statement's parameters, so the previous
	// call's bindings need no clearing.
	err = run(stmt, each, args)
	if resetErr := stmt.Reset(); err == nil {
		err = resetErr
	}
	return err
}

func run(stmt *sqlite.Stmt, each func(*sqlite.Stmt) error, args []any) error {
	if err := bind(stmt, args); err != nil {
		return err
	}
	return step(stmt, each)
}

// executeBound is execute for the statements every step runs, whose callers
// bind the parameters themselves: a value passed as an argument of execute is
// boxed in an interface, which allocates for most of them.
func executeBound(conn *sqlite.Conn, query string, bindParams func(*sqlite.Stmt)) error {
	stmt, err := conn.Prepare(strings.TrimSpace(query))
	if err != nil {
		return err
	}
	bindParams(stmt)
	err = step(stmt, nil)
	if resetErr := stmt.Reset(); err == nil {
		err = resetErr
	}
	return err
}

// bindTime binds a time as Unix microseconds, and the zero time as NULL, as
// bind does.
func bindTime(stmt *sqlite.Stmt, param int, t time.Time) {
	if t.IsZero() {
		stmt.BindNull(param)
	} else {
		stmt.BindInt64(param, t.UnixMicro())
	}
}

// bindOptionalText binds s, or NULL for an empty s, as nullIfEmpty does.
func bindOptionalText(stmt *sqlite.Stmt, param int, s string) {
	if s == "" {
		stmt.BindNull(param)
	} else {
		stmt.BindText(param, s)
	}
}

// step steps stmt to its end, calling each for every row.
func step(stmt *sqlite.Stmt, each func(*sqlite.Stmt) error) error {
	for {
		hasRow, err := stmt.Step()
		if err != nil {
			return err
		}
		if !hasRow {
			return nil
		}
		if each != nil {
			if err := each(stmt); err != nil {
				return err
			}
		}
	}
}

// bind binds arguments by position. nil binds NULL, and so does a zero
// time.Time: optional columns stay NULL rather than holding a sentinel.
func bind(stmt *sqlite.Stmt, args []any) error {
	for i, arg := range args {
		param := i + 1
		switch v := arg.(type) {
		case nil:
			stmt.BindNull(param)
		case string:
			stmt.BindText(param, v)
		case []byte:
			stmt.BindBytes(param, v)
		case int:
			stmt.BindInt64(param, int64(v))
		case int64:
			stmt.BindInt64(param, v)
		case bool:
			stmt.BindBool(param, v)
		case float64:
			stmt.BindFloat(param, v)
		case time.Time:
			if v.IsZero() {
				stmt.BindNull(param)
			} else {
				stmt.BindInt64(param, v.UnixMicro())
			}
		default:
			return fmt.Errorf("sqlite: cannot bind argument %d of type %T", param, arg)
		}
	}
	return nil
}

// nullIfEmpty turns an empty string into NULL for optional text columns.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullIfZero turns a zero sequence number into NULL for optional step columns.
func nullIfZero(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func columnTime(stmt *sqlite.Stmt, col string) time.Time {
	if stmt.IsNull(col) {
		return time.Time{}
	}
	return time.UnixMicro(stmt.GetInt64(col)).UTC()
}

// openColumn reads a payload column the store may have sealed, and opens
// it with the store's keys.
func openColumn(stmt *sqlite.Stmt, col string, keys *store.Keyring) ([]byte, error) {
	value, err := keys.Open(columnBytes(stmt, col))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", col, err)
	}
	return value, nil
}

func columnBytes(stmt *sqlite.Stmt, col string) []byte {
	index := stmt.ColumnIndex(col)
	if index < 0 || stmt.ColumnIsNull(index) {
		return nil
	}
	buf := make([]byte, stmt.ColumnLen(index))
	stmt.ColumnBytes(index, buf)
	return buf
}

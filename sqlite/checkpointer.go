package sqlite

import (
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// checkpointInterval bounds how often the write-ahead log is copied back
// into the database file while writes keep coming: each copy ends with a
// flush of the file, so copying after every commit would cost a flush each.
const checkpointInterval = 20 * time.Millisecond

// checkpointer copies the write-ahead log back into the database file from a
// connection of its own, beside the writer. SQLite's automatic checkpoint
// would do it inside the commit that takes the log past 1,000 pages, on the
// writer's goroutine, and every write queued behind that commit would wait
// for the copy and its flush. The writer wakes it after each commit; it
// copies what no reader still needs (a passive checkpoint, which never blocks
// the writer or a reader), at most once per checkpointInterval.
type checkpointer struct {
	conn *sqlite.Conn
	wake chan struct{}
	quit chan struct{}
	done chan struct{}
}

// startCheckpointer opens its connection to path and starts it.
func startCheckpointer(path string, busyTimeout time.Duration) (*checkpointer, error) {
	conn, err := sqlite.OpenConn(path, sqlite.OpenReadWrite)
	if err != nil {
		return nil, err
	}
	conn.SetBusyTimeout(busyTimeout)
	c := &checkpointer{conn: conn, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

// committed tells the checkpointer the log has grown; it never blocks.
func (c *checkpointer) committed() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.wake:
		case <-c.quit:
			return
		}
		// A failed checkpoint leaves the log as it was, to be copied by the
		// next one; the database stays whole either way.
		_ = sqlitex.ExecuteTransient(c.conn, "PRAGMA wal_checkpoint(PASSIVE)", nil)
		select {
		case <-time.After(checkpointInterval):
		case <-c.quit:
			return
		}
	}
}

// close stops the checkpointer and closes its connection; the writer's
// connection, closed last, copies what remains.
func (c *checkpointer) close() error {
	close(c.quit)
	<-c.done
	return c.conn.Close()
}

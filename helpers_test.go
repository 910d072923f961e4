package klaxon_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
)

// openStore opens a SQLite store in the test's temporary directory.
func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// fastConfig is a worker configuration for tests: short polls and backoffs.
func fastConfig() *klaxon.Config {
	return &klaxon.Config{
		Concurrency:   8,
		PollInterval:  10 * time.Millisecond,
		LeaseDuration: 5 * time.Second,
		ShutdownGrace: 2 * time.Second,
	}
}

// fastRetry retries quickly so tests do not wait on backoff.
var fastRetry = klaxon.WithRetryPolicy(klaxontype.RetryPolicy{
	MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
})

// startClient registers the workflows, starts the client and stops it at the
// end of the test.
func startClient(t testing.TB, st *sqlite.Store, config *klaxon.Config, workflows ...klaxon.Registrable) *klaxon.Client {
	t.Helper()
	if config == nil {
		config = fastConfig()
	}
	client, err := klaxon.NewClient(st, config)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Register(workflows...); err != nil {
		t.Fatal(err)
	}
	if err := client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(ctx)
	})
	return client
}

// awaitRun waits for a run to be terminal, failing the test after 10s.
func awaitRun(t testing.TB, client *klaxon.Client, id string) *klaxontype.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	run, err := client.AwaitRun(ctx, id)
	if err != nil && run == nil || ctx.Err() != nil {
		t.Fatalf("run %s did not end: %v", id, err)
	}
	return run
}

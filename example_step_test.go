package klaxon_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
)

// Step checkpoints a unit of work. When a later step fails and the run is
// retried, a completed step returns its stored output instead of running
// again, and the step that failed keeps its idempotency key on the retry, so
// an external API can recognise the repeated call.
func ExampleStep() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "klaxon-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "klaxon.db"), nil)
	if err != nil {
		panic(err)
	}
	defer st.Close()

	var (
		mu         sync.Mutex
		fetches    int
		publishKey []string
	)
	publish := klaxon.NewWorkflow("publish-report", func(ctx context.Context, id int) (string, error) {
		report, err := klaxon.Step(ctx, "fetch", func(ctx context.Context) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			fetches++
			return fmt.Sprintf("report %d", id), nil
		})
		if err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "publish", func(ctx context.Context) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			publishKey = append(publishKey, klaxon.IdempotencyKey(ctx))
			if len(publishKey) == 1 {
				return "", errors.New("CMS unavailable") // unclassified: transient, retried
			}
			return "published " + report, nil
		})
	}, klaxon.WithRetryPolicy(klaxontype.RetryPolicy{
		MaxAttempts: 3, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 10 * time.Millisecond,
	}))

	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	if err := client.Register(publish); err != nil {
		panic(err)
	}
	if err := client.Start(ctx); err != nil {
		panic(err)
	}
	defer client.Stop(ctx)

	result, err := publish.Enqueue(ctx, client, 42)
	if err != nil {
		panic(err)
	}
	out, err := publish.Await(ctx, client, result.Run.ID)
	fmt.Println(out, err)
	mu.Lock()
	defer mu.Unlock()
	fmt.Printf("fetch ran %d time, publish %d times\n", fetches, len(publishKey))
	fmt.Println("publish kept its idempotency key:", publishKey[0] == publishKey[1])
	// Output:
	// published report 42 <nil>
	// fetch ran 1 time, publish 2 times
	// publish kept its idempotency key: true
}

package klaxon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
)

// Validate turns output that arrived but is wrong into a semantic failure: the
// output is not checkpointed, and the attempt is retried as the workflow's
// policy for semantic failures says. The attempt history keeps the failure.
func ExampleValidate() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "klaxon-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "klaxon.db"), nil)
	if err != nil {
		panic(err)
	}
	defer st.Close()

	var answers atomic.Int32
	extract := klaxon.NewWorkflow("extract-total", func(ctx context.Context, invoice string) (float64, error) {
		return klaxon.Step(ctx, "extract", func(ctx context.Context) (float64, error) {
			if answers.Add(1) == 1 {
				return -112.5, nil // a model's made-up answer
			}
			return 112.5, nil
		}, klaxon.Validate(func(total float64) error {
			if total < 0 {
				return fmt.Errorf("a total of %v is negative", total)
			}
			return nil
		}))
	}, klaxon.WithRetryPolicy(klaxontype.RetryPolicy{
		MaxAttempts: 3, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 10 * time.Millisecond,
	}))

	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	if err := client.Register(extract); err != nil {
		panic(err)
	}
	if err := client.Start(ctx); err != nil {
		panic(err)
	}
	defer client.Stop(ctx)

	result, err := extract.Enqueue(ctx, client, "INV-2024-17")
	if err != nil {
		panic(err)
	}
	total, err := extract.Await(ctx, client, result.Run.ID)
	fmt.Println(total, err)
	attempts, err := st.AttemptList(ctx, result.Run.ID)
	if err != nil {
		panic(err)
	}
	for _, attempt := range attempts {
		fmt.Printf("attempt %d failed in step %s: %s\n", attempt.Attempt, attempt.Step, attempt.Class)
	}
	// Output:
	// 112.5 <nil>
	// attempt 1 failed in step extract: semantic
}

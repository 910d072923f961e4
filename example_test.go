package klaxon_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/sqlite"
)

// A workflow is a Go function made of checkpointed steps. Each step's output is
// stored before the next begins; a retry of the run replays completed steps
// from the log instead of running them again.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "klaxon-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "klaxon.db"), nil)
	if err != nil {
		panic(err)
	}
	defer st.Close()

	summarize := klaxon.NewWorkflow("summarize", func(ctx context.Context, url string) (string, error) {
		page, err := klaxon.Step(ctx, "fetch", func(ctx context.Context) (string, error) {
			return "the text at " + url, nil // an HTTP request, in real life
		})
		if err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "summarize", func(ctx context.Context) (string, error) {
			// Hand the step's idempotency key to the model gateway, so a call
			// repeated after a crash is recognised as the same call.
			_ = klaxon.IdempotencyKey(ctx)
			return "summary of " + page, nil
		}, klaxon.StepTimeout(30*time.Second))
	}, klaxon.ExpectSteps("fetch", "summarize"))

	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	if err := client.Register(summarize); err != nil {
		panic(err)
	}
	if err := client.Start(ctx); err != nil {
		panic(err)
	}
	defer client.Stop(ctx)

	result, err := summarize.Enqueue(ctx, client, "https://example.com",
		klaxon.WithIdempotencyKey("example.com"), klaxon.WithEntity("site", "example.com"))
	if err != nil {
		panic(err)
	}
	summary, err := summarize.Await(ctx, client, result.Run.ID)
	fmt.Println(summary, err)
	// Output: summary of the text at https://example.com <nil>
}

// Compensate registers the undo of a step. When the run fails for good, the
// compensations of its completed steps run in reverse order, once each.
func ExampleCompensate() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "klaxon-example")
	defer os.RemoveAll(dir)
	st, _ := sqlite.Open(ctx, filepath.Join(dir, "klaxon.db"), nil)
	defer st.Close()

	book := klaxon.NewWorkflow("book-trip", func(ctx context.Context, trip string) (string, error) {
		_, err := klaxon.Step(ctx, "book-flight", func(ctx context.Context) (string, error) {
			return "flight for " + trip, nil
		}, klaxon.Compensate(func(ctx context.Context, flight string) error {
			fmt.Println("cancelled", flight)
			return nil
		}))
		if err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "book-hotel", func(ctx context.Context) (string, error) {
			return "", klaxon.Permanent(errors.New("no rooms left"))
		})
	})
	client, _ := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond})
	_ = client.Register(book)
	_ = client.Start(ctx)
	defer client.Stop(ctx)

	result, _ := book.Enqueue(ctx, client, "Lisbon")
	_, err := book.Await(ctx, client, result.Run.ID)
	var failed *klaxon.RunFailedError
	if errors.As(err, &failed) {
		fmt.Println(failed.Run.Status, failed.Run.Failure.Class, failed.Run.Failure.Step)
	}
	// Output:
	// cancelled flight for Lisbon
	// dead permanent book-hotel
}

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

// Resolve lets a person supply the output of the step a dead run failed in,
// checked against the step's output type: the run continues from there, and
// the steps before it are not run again.
func ExampleClient_Resolve() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "klaxon-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "klaxon.db"), nil)
	if err != nil {
		panic(err)
	}
	defer st.Close()

	route := klaxon.NewWorkflow("route-ticket", func(ctx context.Context, ticket string) (string, error) {
		text, err := klaxon.Step(ctx, "read", func(ctx context.Context) (string, error) {
			return "my invoice is wrong", nil
		})
		if err != nil {
			return "", err
		}
		team, err := klaxon.Step(ctx, "classify", func(ctx context.Context) (string, error) {
			return "", klaxon.PolicyViolation(fmt.Errorf("the model refused to classify %q", text))
		})
		if err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "assign", func(ctx context.Context) (string, error) {
			return ticket + " assigned to " + team, nil
		})
	})

	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	if err := client.Register(route); err != nil {
		panic(err)
	}
	if err := client.Start(ctx); err != nil {
		panic(err)
	}
	defer client.Stop(ctx)

	result, err := route.Enqueue(ctx, client, "ticket 7")
	if err != nil {
		panic(err)
	}
	_, err = route.Await(ctx, client, result.Run.ID)
	var failed *klaxon.RunFailedError
	if errors.As(err, &failed) {
		fmt.Println(failed.Run.Status, failed.Run.Failure.Class, "in step", failed.Run.Failure.Step)
	}
	entries, err := client.DeadLetters(ctx, &klaxon.DeadLetterFilter{RunID: result.Run.ID})
	if err != nil {
		panic(err)
	}

	// A number where the step returns a string does not fit, and changes nothing.
	_, err = client.Resolve(ctx, entries[0].ID, "classify", []byte(`42`), "alice")
	fmt.Println("42 accepted:", err == nil)
	resolved, err := client.Resolve(ctx, entries[0].ID, "classify", []byte(`"billing"`), "alice")
	if err != nil {
		panic(err)
	}
	fmt.Println("entry:", resolved.State)
	out, err := route.Await(ctx, client, result.Run.ID)
	fmt.Println(out, err)
	// Output:
	// dead policy_violation in step classify
	// 42 accepted: false
	// entry: resolved
	// ticket 7 assigned to billing <nil>
}

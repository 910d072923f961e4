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

// The compensations of a run that failed for good run in reverse order of
// their steps, last completed first, each once; a step without one is left as
// it is. The step log keeps what each completed step became.
func ExampleCompensate_reverseOrder() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "klaxon-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "klaxon.db"), nil)
	if err != nil {
		panic(err)
	}
	defer st.Close()

	undo := func(what string) klaxon.StepOption {
		return klaxon.Compensate(func(ctx context.Context, done string) error {
			fmt.Println("undo:", what, done)
			return nil
		})
	}
	travel := klaxon.NewWorkflow("travel", func(ctx context.Context, city string) (string, error) {
		for _, step := range []struct {
			name string
			undo klaxon.StepOption
		}{
			{"reserve-seat", undo("release")},
			{"charge-card", undo("refund")},
			{"notify-traveller", nil},
		} {
			var options []klaxon.StepOption
			if step.undo != nil {
				options = append(options, step.undo)
			}
			if _, err := klaxon.Step(ctx, step.name, func(ctx context.Context) (string, error) {
				return step.name + " for " + city, nil
			}, options...); err != nil {
				return "", err
			}
		}
		return klaxon.Step(ctx, "issue-ticket", func(ctx context.Context) (string, error) {
			return "", klaxon.Permanent(errors.New("the airline closed the booking"))
		})
	})

	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	if err := client.Register(travel); err != nil {
		panic(err)
	}
	if err := client.Start(ctx); err != nil {
		panic(err)
	}
	defer client.Stop(ctx)

	result, err := travel.Enqueue(ctx, client, "Porto")
	if err != nil {
		panic(err)
	}
	_, err = travel.Await(ctx, client, result.Run.ID)
	var failed *klaxon.RunFailedError
	if errors.As(err, &failed) {
		fmt.Println(failed.Run.Status, failed.Run.Failure.Class, failed.Run.Failure.Step)
	}
	steps, err := st.StepList(ctx, result.Run.ID)
	if err != nil {
		panic(err)
	}
	for _, step := range steps {
		fmt.Println(step.Name, step.Status)
	}
	// Output:
	// undo: refund charge-card for Porto
	// undo: release reserve-seat for Porto
	// dead permanent issue-ticket
	// reserve-seat compensated
	// charge-card compensated
	// notify-traveller completed
}

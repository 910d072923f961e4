package klaxon_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/sqlite"
)

// Replay sends a dead run back to work once its cause is fixed. Resume, the
// default mode, keeps the completed steps: only the failed step and the ones
// after it run, so the customer is not charged twice.
func ExampleClient_Replay() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "klaxon-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "klaxon.db"), nil)
	if err != nil {
		panic(err)
	}
	defer st.Close()

	var fixed atomic.Bool
	var charges atomic.Int32
	ship := klaxon.NewWorkflow("ship-order", func(ctx context.Context, order string) (string, error) {
		charged, err := klaxon.Step(ctx, "charge", func(ctx context.Context) (string, error) {
			charges.Add(1)
			return order + " charged", nil
		})
		if err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "ship", func(ctx context.Context) (string, error) {
			if !fixed.Load() {
				return "", klaxon.Permanent(errors.New("no carrier for this address"))
			}
			return charged + " and shipped", nil
		})
	})

	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	if err := client.Register(ship); err != nil {
		panic(err)
	}
	if err := client.Start(ctx); err != nil {
		panic(err)
	}
	defer client.Stop(ctx)

	result, err := ship.Enqueue(ctx, client, "order 1017")
	if err != nil {
		panic(err)
	}
	_, err = ship.Await(ctx, client, result.Run.ID)
	fmt.Println("first attempt:", err != nil)
	entries, err := client.DeadLetters(ctx, &klaxon.DeadLetterFilter{RunID: result.Run.ID})
	if err != nil {
		panic(err)
	}
	fmt.Println("dead letter:", entries[0].Class, "in step", entries[0].Step.Name)

	fixed.Store(true) // the carrier table is fixed and deployed
	replayed, err := client.Replay(ctx, entries[0].ID, klaxon.ReplayOptions{Actor: "alice"})
	if err != nil {
		panic(err)
	}
	fmt.Println("entry:", replayed.State)
	out, err := ship.Await(ctx, client, result.Run.ID)
	fmt.Println(out, err)
	fmt.Println("charge ran", charges.Load(), "time")
	// Output:
	// first attempt: true
	// dead letter: permanent in step ship
	// entry: replayed
	// order 1017 charged and shipped <nil>
	// charge ran 1 time
}

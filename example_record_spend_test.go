package klaxon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
)

// RecordSpend adds what a model call cost to the step that made it. The spend
// is stored with the step's checkpoint and added to the run's totals in the
// same transaction, so it is counted once; package llm records it for you.
func ExampleRecordSpend() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "klaxon-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "klaxon.db"), nil)
	if err != nil {
		panic(err)
	}
	defer st.Close()

	summarize := klaxon.NewWorkflow("summarize-notes", func(ctx context.Context, notes string) (string, error) {
		return klaxon.Step(ctx, "summarize", func(ctx context.Context) (string, error) {
			// A model SDK's call and the usage it reported, in real life.
			klaxon.RecordSpend(ctx, klaxontype.Spend{
				Usage:      klaxontype.TokenUsage{InputTokens: 1200, OutputTokens: 300},
				Cost:       klaxontype.KnownCost(0.00036),
				ModelCalls: 1,
			})
			return "summary of " + notes, nil
		})
	})

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

	result, err := summarize.Enqueue(ctx, client, "the meeting notes")
	if err != nil {
		panic(err)
	}
	summary, err := summarize.Await(ctx, client, result.Run.ID)
	fmt.Println(summary, err)
	run, err := client.Run(ctx, result.Run.ID)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d model call, %d tokens, %s\n", run.Spend.ModelCalls, run.Spend.Usage.Total(), run.Spend.Cost)
	// Output:
	// summary of the meeting notes <nil>
	// 1 model call, 1500 tokens, $0.000360
}

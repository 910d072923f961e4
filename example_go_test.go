package klaxon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/sqlite"
)

// Go fans out: steps started with Go run side by side, each checkpointed on
// its own. They take their sequence numbers when Go is called, in program
// order, so a retry meets the same numbers whatever order they finished in.
func ExampleGo() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "klaxon-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "klaxon.db"), nil)
	if err != nil {
		panic(err)
	}
	defer st.Close()

	translate := klaxon.NewWorkflow("translate", func(ctx context.Context, text string) ([]string, error) {
		var futures []*klaxon.Future[string]
		for _, language := range []string{"de", "fr", "ja"} {
			futures = append(futures, klaxon.Go(ctx, "translate-"+language, func(ctx context.Context) (string, error) {
				return language + ": " + text, nil // a model call, in real life
			}))
		}
		translations := make([]string, 0, len(futures))
		for _, future := range futures {
			translation, err := future.Await()
			if err != nil {
				return nil, err
			}
			translations = append(translations, translation)
		}
		return translations, nil
	})

	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	if err := client.Register(translate); err != nil {
		panic(err)
	}
	if err := client.Start(ctx); err != nil {
		panic(err)
	}
	defer client.Stop(ctx)

	result, err := translate.Enqueue(ctx, client, "hello")
	if err != nil {
		panic(err)
	}
	translations, err := translate.Await(ctx, client, result.Run.ID)
	fmt.Println(translations, err)
	steps, err := st.StepList(ctx, result.Run.ID)
	if err != nil {
		panic(err)
	}
	for _, step := range steps {
		fmt.Println(step.Seq, step.Name, step.Status)
	}
	// Output:
	// [de: hello fr: hello ja: hello] <nil>
	// 1 translate-de completed
	// 2 translate-fr completed
	// 3 translate-ja completed
}

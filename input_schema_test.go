package klaxon_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// scrapeInput is a workflow input with the shapes that matter to its schema:
// nested structs, slices, maps, times and a type that decodes itself.
type scrapeInput struct {
	URL     string            `json:"url"`
	Depth   int               `json:"depth,omitempty"`
	Tags    []string          `json:"tags"`
	Headers map[string]string `json:"headers"`
	Since   time.Time         `json:"since"`
	Limits  struct {
		Pages int `json:"pages"`
	} `json:"limits"`
	// Cost decodes itself from a number or "unknown": its Go fields say
	// nothing of its JSON.
	Cost klaxontype.Cost `json:"cost"`
}

func newScrape() *klaxon.Workflow[scrapeInput, int] {
	return klaxon.NewWorkflow("scrape", func(ctx context.Context, in scrapeInput) (int, error) { return len(in.URL), nil },
		klaxon.Version(4),
		klaxon.WithRetryPolicy(klaxontype.RetryPolicy{MaxAttempts: 7}),
		klaxon.RunTimeout(time.Minute),
		klaxon.WithBudget(klaxontype.Budget{Tokens: 1000}),
		klaxon.WithBreaker(klaxontype.BreakerPolicy{Window: time.Minute, MinAttempts: 5, FailureRate: 0.5, CoolDown: time.Hour}),
		klaxon.WithSpendRateLimit(3.5),
	)
}

// Start records the workflow's input schema and policies, so that a process
// without the workflow's code can show them.
func TestStartRecordsInputSchemaAndPolicies(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	startClient(t, st, nil, newScrape())
	list, err := st.WorkflowList(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("WorkflowList: %d workflows; want 1", len(list))
	}
	info := list[0]
	want := &klaxontype.WorkflowPolicies{
		// The defaults filled in: what the workers apply.
		Retry:                    klaxontype.RetryPolicy{MaxAttempts: 7, InitialBackoff: time.Second, MaxBackoff: 5 * time.Minute},
		RunTimeout:               time.Minute,
		Budget:                   &klaxontype.Budget{Tokens: 1000},
		Breaker:                  &klaxontype.BreakerPolicy{Window: time.Minute, MinAttempts: 5, FailureRate: 0.5, CoolDown: time.Hour},
		SpendRateLimitUSDPerHour: 3.5,
	}
	if !reflect.DeepEqual(info.Policies, want) {
		t.Errorf("policies %+v; want %+v", info.Policies, want)
	}
	var schema struct {
		Type                 any            `json:"type"`
		Properties           map[string]any `json:"properties"`
		AdditionalProperties *bool          `json:"additionalProperties"`
		Required             []string       `json:"required"`
	}
	if err := json.Unmarshal(info.InputSchema, &schema); err != nil {
		t.Fatalf("input schema %s: %v", info.InputSchema, err)
	}
	if schema.AdditionalProperties == nil || *schema.AdditionalProperties || schema.Required != nil {
		t.Errorf("input schema %s: want unknown fields refused and none required, as strict decoding does", info.InputSchema)
	}
	for _, field := range []string{"url", "depth", "tags", "headers", "since", "limits", "cost"} {
		if _, ok := schema.Properties[field]; !ok {
			t.Errorf("input schema %s has no property %q", info.InputSchema, field)
		}
	}

	// A workflow with no options records the default retry policy and nothing
	// else.
	st2 := openStore(t)
	startClient(t, st2, nil, klaxon.NewWorkflow("plain", func(ctx context.Context, in string) (string, error) { return in, nil }))
	list, err = st2.WorkflowList(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (&klaxontype.WorkflowPolicies{Retry: klaxontype.DefaultRetryPolicy}); !reflect.DeepEqual(list[0].Policies, want) {
		t.Errorf("plain policies %+v; want %+v", list[0].Policies, want)
	}
}

// A client without the workflow's code checks an enqueued input against the
// recorded schema: it refuses what the workers could not decode, naming the
// path, writes nothing, and accepts what strict decoding would accept.
func TestEnqueueChecksTheRecordedInputSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	startClient(t, st, nil, newScrape())
	remote, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}

	refused := []struct {
		input string
		paths []string
	}{
		{`{"url": 42}`, []string{"/url"}},
		{`{"url": "x", "limits": {"pages": "ten"}}`, []string{"/limits/pages"}},
		{`{"url": "x", "tags": ["a", 2]}`, []string{"/tags/1"}},
		{`{"url": "x", "depth": 1.5}`, []string{"/depth"}},
		{`{"url": "x", "since": 12}`, []string{"/since"}},
		// A time the workers' decoding would refuse: the schema's date-time
		// format is enforced, not only its type.
		{`{"url": "x", "since": "yesterday"}`, []string{"/since", "date-time"}},
		{`{"url": "x", "headers": {"a": true}}`, []string{"/headers/a"}},
		{`{"url": "x", "colour": "red"}`, []string{"colour"}},
		{`{"url": 1, "limits": {"extra": 1}}`, []string{"/url", "/limits", "extra"}},
		{`"just a string"`, []string{"/"}},
	}
	for _, tc := range refused {
		_, err := remote.EnqueueAs(ctx, "tester", "scrape", []byte(tc.input))
		var inputErr *klaxon.InputError
		if !errors.Is(err, klaxontype.ErrInvalid) || !errors.As(err, &inputErr) {
			t.Errorf("input %s: error %v; want an *InputError wrapping ErrInvalid", tc.input, err)
			continue
		}
		for _, path := range tc.paths {
			if !strings.Contains(err.Error(), path) {
				t.Errorf("input %s: error %q does not name %q", tc.input, err, path)
			}
		}
	}
	runs, err := st.RunList(ctx, &store.RunListParams{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 0 {
		t.Fatalf("refused inputs created %d runs", len(runs))
	}

	accepted := []string{
		`{"url": "https://example.com", "depth": 2, "tags": ["a"], "headers": {"a": "b"}, "since": "2026-01-02T03:04:05Z", "limits": {"pages": 3}, "cost": "unknown"}`,
		`{}`,   // missing fields decode to zero values
		`null`, // so does a null input
		``,     // which is what no input means
		`{"url": null, "tags": null, "limits": null, "cost": 0.5}`,
		`{"url": "x", "tags": [null]}`,
	}
	for _, input := range accepted {
		if _, err := remote.EnqueueAs(ctx, "tester", "scrape", []byte(input)); err != nil {
			t.Errorf("input %s refused: %v", input, err)
		}
	}

	// The local check still decodes strictly, and the workflow's own client
	// agrees with the remote one.
	local, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := local.Register(newScrape()); err != nil {
		t.Fatal(err)
	}
	var inputErr *klaxon.InputError
	if _, err := local.Enqueue(ctx, "scrape", []byte(`{"url": 42}`)); !errors.As(err, &inputErr) {
		t.Fatalf("local enqueue of a bad input: %v; want an *InputError", err)
	}
}

// A schema recorded by someone else is checked as it is; a workflow recorded
// without one only needs JSON.
func TestEnqueueWithoutRecordedSchemaOnlyNeedsJSON(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	if err := st.WorkflowRegister(ctx, &store.WorkflowRegisterParams{Name: "typed", Version: 1, InputSchema: json.RawMessage(`{"type":"integer"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := st.WorkflowRegister(ctx, &store.WorkflowRegisterParams{Name: "untyped", Version: 1}); err != nil {
		t.Fatal(err)
	}
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Enqueue(ctx, "typed", []byte(`"seven"`)); !errors.Is(err, klaxontype.ErrInvalid) {
		t.Fatalf("typed with a string: %v; want ErrInvalid", err)
	}
	if _, err := client.Enqueue(ctx, "typed", []byte(`7`)); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Enqueue(ctx, "untyped", []byte(`"anything"`)); err != nil {
		t.Fatal(err)
	}
}

// node is a recursive type: a tree.
type node struct {
	Name     string  `json:"name"`
	Children []*node `json:"children"`
}

// A recursive input or output type has no schema (its reflection would never
// end), and its worker starts and fails like any other: an input then only
// has to be JSON, and a failed step's entry has no output schema.
func TestRecursiveTypesHaveNoSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	walk := klaxon.NewWorkflow("walk", func(ctx context.Context, root node) (int, error) {
		_, err := klaxon.Step(ctx, "grow", func(context.Context) (node, error) {
			return node{}, klaxon.Permanent(errors.New("no soil"))
		})
		return 0, err
	})
	startClient(t, st, nil, walk)
	list, err := st.WorkflowList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if list[0].InputSchema != nil || list[0].Policies == nil {
		t.Fatalf("recorded schema %s and policies %+v; want no schema, policies", list[0].InputSchema, list[0].Policies)
	}
	remote, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	result, err := remote.Enqueue(ctx, "walk", []byte(`{"name":"root","children":[{"name":"leaf"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	run := awaitRun(t, remote, result.Run.ID)
	if run.Status != klaxontype.RunStatusDead {
		t.Fatalf("run %s, want dead", run.Status)
	}
	entries, err := remote.DeadLetters(ctx, &klaxon.DeadLetterFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].OutputSchema != nil {
		t.Fatalf("entries %+v; want one, without an output schema", entries)
	}
}

package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
)

type invoiceFields struct {
	Number string  `json:"number"`
	Total  float64 `json:"total"`
}

const invoiceSchema = `{
  "type": "object",
  "properties": {
    "number": {"type": "string", "pattern": "^INV-[0-9]+$"},
    "total": {"type": "number", "minimum": 0}
  },
  "required": ["number", "total"]
}`

func TestDecodeJSONNamesTheFailingPath(t *testing.T) {
	t.Parallel()
	schema, err := llm.CompileSchema([]byte(invoiceSchema))
	if err != nil {
		t.Fatal(err)
	}
	got, err := llm.DecodeJSON[invoiceFields](schema, "```json\n{\"number\": \"INV-42\", \"total\": 99.5}\n```")
	if err != nil || got.Number != "INV-42" || got.Total != 99.5 {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	for answer, wantPath := range map[string]string{
		`{"number": "42", "total": 1}`:       "at /number",
		`{"number": "INV-1", "total": -3}`:   "at /total",
		`{"number": "INV-1"}`:                "at /",
		`Sure! The invoice number is INV-1.`: "not JSON",
	} {
		_, err := llm.DecodeJSON[invoiceFields](schema, answer)
		var classified klaxontype.Classified
		if !errors.As(err, &classified) || classified.FailureClass() != klaxontype.ClassSemantic || !strings.Contains(err.Error(), wantPath) {
			t.Errorf("answer %s: err = %v; want a semantic failure mentioning %q", answer, err, wantPath)
		}
	}
	if _, err := llm.CompileSchema([]byte(`{"type": 3}`)); err == nil {
		t.Error("a schema that does not compile was accepted")
	}
}

// jsonProvider answers with a fixed list of contents, one per call.
type jsonProvider struct {
	answers []string
	calls   atomic.Int32
}

func (p *jsonProvider) Name() string { return "fake" }

func (p *jsonProvider) Complete(ctx context.Context, request *llm.Request) (*llm.Response, error) {
	n := p.calls.Add(1)
	return &llm.Response{Model: "gpt-4o", Content: p.answers[n-1], Usage: klaxontype.TokenUsage{InputTokens: 10, OutputTokens: 5}}, nil
}

// A structured answer that fails its schema is a semantic failure: not
// recorded, retried, and its spend still counted.
func TestValidateJSONRetriesWrongStructuredOutput(t *testing.T) {
	t.Parallel()
	schema, _ := llm.CompileSchema([]byte(invoiceSchema))
	provider := &jsonProvider{answers: []string{`{"number": "unknown"}`, `{"number": "INV-7", "total": 12}`}}
	wf := klaxon.NewWorkflow("extract-invoice", func(ctx context.Context, doc string) (invoiceFields, error) {
		response, err := llm.Call(ctx, provider, "extract", &llm.Request{Model: "gpt-4o", Messages: []llm.Message{{Role: llm.RoleUser, Content: doc}}},
			llm.ValidateJSON(schema))
		if err != nil {
			return invoiceFields{}, err
		}
		return llm.DecodeJSON[invoiceFields](schema, response.Content)
	}, fastRetry)
	client := startClient(t, wf)
	result, _ := wf.Enqueue(context.Background(), client, "scan.pdf")
	out, err := wf.Await(context.Background(), client, result.Run.ID)
	if err != nil || out.Number != "INV-7" {
		t.Fatalf("output %+v, %v", out, err)
	}
	run, _ := client.Run(context.Background(), result.Run.ID)
	attempts, _ := client.Store().AttemptList(context.Background(), run.ID)
	if len(attempts) != 1 || attempts[0].Class != klaxontype.ClassSemantic || !strings.Contains(attempts[0].Message, "at /") {
		t.Fatalf("attempts = %+v", attempts)
	}
	if run.Spend.ModelCalls != 2 || run.Spend.Usage.InputTokens != 20 {
		t.Fatalf("run spend %+v; the rejected answer was paid for and must count", run.Spend)
	}
}

// Tool calls are recorded one per call, with arguments, result or error, and
// replayed on retry instead of being executed again.
func TestToolCallsAreRecordedAndReplayed(t *testing.T) {
	t.Parallel()
	var executions atomic.Int32
	var keys []string
	var attempt atomic.Int32
	lookup := func(ctx context.Context, args json.RawMessage) (json.RawMessage, error) {
		executions.Add(1)
		keys = append(keys, klaxon.IdempotencyKey(ctx))
		var query struct {
			SKU string `json:"sku"`
		}
		_ = json.Unmarshal(args, &query)
		if query.SKU == "SKU-0" {
			return nil, errors.New("no such product")
		}
		return json.RawMessage(`{"stock": 3}`), nil
	}
	wf := klaxon.NewWorkflow("agent-tools", func(ctx context.Context, _ int) (string, error) {
		var results []string
		for i, sku := range []string{"SKU-1", "SKU-0"} {
			call := llm.ToolCall{ID: "call_" + sku, Name: "lookup_stock", Arguments: json.RawMessage(`{"sku": "` + sku + `"}`)}
			record, err := llm.ExecuteTool(ctx, call, lookup)
			if err != nil {
				return "", err
			}
			results = append(results, string(record.Result)+record.Error)
			_ = i
		}
		if attempt.Add(1) == 1 {
			return "", klaxon.Transient(errors.New("model call after the tools failed"))
		}
		return strings.Join(results, "|"), nil
	}, fastRetry)
	client := startClient(t, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	out, err := wf.Await(context.Background(), client, result.Run.ID)
	if err != nil || out != `{"stock":3}|no such product` {
		t.Fatalf("output %q, %v", out, err)
	}
	if executions.Load() != 2 {
		t.Fatalf("tools executed %d times; a retry must replay their records", executions.Load())
	}
	steps, _ := client.Store().StepList(context.Background(), result.Run.ID)
	var second llm.ToolResult
	if len(steps) != 2 || steps[1].Name != "tool:lookup_stock" || json.Unmarshal(steps[1].Output, &second) != nil ||
		second.Error != "no such product" || second.CallID != "call_SKU-0" || string(second.Arguments) != `{"sku":"SKU-0"}` {
		t.Fatalf("step log %+v / record %+v", steps, second)
	}
	if keys[0] != result.Run.ID+"/1/tool:lookup_stock" || keys[1] == keys[0] {
		t.Fatalf("tool keys %v", keys)
	}
}

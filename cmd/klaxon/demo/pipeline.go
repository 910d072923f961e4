package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
)

// WorkflowName is the demo workflow's name in the store.
const WorkflowName = "process-document"

// Steps is the demo workflow's step manifest.
var Steps = []string{"extract", "classify", "enrich", "transform", "store"}

// Document is the demo workflow's input.
type Document struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
	// LookUp says the document names no product: enrich is an agent that
	// searches the catalogue with a tool until it finds one.
	LookUp bool `json:"look_up,omitempty"`
}

// Record is what the pipeline stores for a document.
type Record struct {
	DocumentID string `json:"document_id"`
	Category   string `json:"category"`
	// Product is the catalogue product the document is about.
	Product  string `json:"product"`
	Words    int    `json:"words"`
	StoredAs string `json:"stored_as"`
}

type extracted struct {
	Words int    `json:"words"`
	Text  string `json:"text"`
}

var (
	categories = []string{"invoice", "contract", "report", "email"}
	// catalogue is the demo's product catalogue; the model sometimes invents
	// a SKU that is not in it.
	catalogue = []string{"SKU-1001", "SKU-1002", "SKU-2040", "SKU-3300", "SKU-4711"}
)

// fakeStepTimeout bounds each call to the fake model, which answers in
// milliseconds.
const fakeStepTimeout = 250 * time.Millisecond

// runTokenBudget caps the tokens of one run: an ordinary run spends a few
// hundred, retries included; an agent that never stops calling tools reaches
// it within a handful of turns.
const runTokenBudget = 5000

// Model is how the pipeline reaches its model.
type Model struct {
	Provider llm.Provider
	// Name is the model named in requests.
	Name string
	// Timeout bounds each model call.
	Timeout time.Duration
	// BaseURL is the model server's OpenAI-compatible URL, with its /v1, for
	// workers in other processes.
	BaseURL string
}

// NewPipeline returns the document-processing workflow, whose classify and
// enrich steps ask the model. A document to look up makes enrich an agent
// whose turns are llm.Call steps, each checking the run's budget first.
func NewPipeline(model Model) *klaxon.Workflow[Document, Record] {
	return klaxon.NewWorkflow(WorkflowName, func(ctx context.Context, doc Document) (Record, error) {
		text, err := klaxon.Step(ctx, "extract", func(ctx context.Context) (extracted, error) {
			normalized := strings.Join(strings.Fields(doc.Title+" "+doc.Text), " ")
			return extracted{Words: len(strings.Fields(normalized)), Text: normalized}, nil
		})
		if err != nil {
			return Record{}, err
		}
		category, err := ask(ctx, model, "classify", &llm.Request{
			Model:    model.Name,
			System:   "You classify business documents. Answer with exactly one of: " + strings.Join(categories, ", ") + ". Nothing else.",
			Messages: []llm.Message{{Role: llm.RoleUser, Content: text.Text}},
		}, categories)
		if err != nil {
			return Record{}, err
		}
		enrich := &llm.Request{
			Model:    model.Name,
			System:   "You match documents to the product catalogue. Answer with exactly one of: " + strings.Join(catalogue, ", ") + ". Nothing else.",
			Messages: []llm.Message{{Role: llm.RoleUser, Content: "Category: " + category + "\n\n" + text.Text}},
		}
		var product string
		if doc.LookUp {
			product, err = lookUpProduct(ctx, model, enrich)
		} else {
			product, err = ask(ctx, model, "enrich", enrich, catalogue)
		}
		if err != nil {
			return Record{}, err
		}
		record, err := klaxon.Step(ctx, "transform", func(ctx context.Context) (Record, error) {
			return Record{DocumentID: doc.ID, Category: category, Product: product, Words: text.Words}, nil
		})
		if err != nil {
			return Record{}, err
		}
		return klaxon.Step(ctx, "store", func(ctx context.Context) (Record, error) {
			// A real store step would hand this key to its database or API, so
			// a write repeated after a crash is recognised as the same write.
			record.StoredAs = "documents/" + klaxon.IdempotencyKey(ctx)
			return record, nil
		})
	},
		klaxon.ExpectSteps(Steps...),
		klaxon.WithRetryPolicy(klaxontype.RetryPolicy{MaxAttempts: 4, InitialBackoff: 50 * time.Millisecond, MaxBackoff: time.Second}),
		klaxon.RunTimeout(max(30*time.Second, 10*model.Timeout)),
		klaxon.WithBudget(klaxontype.Budget{Tokens: runTokenBudget}),
	)
}

// ask is a model call as a step whose output is the choice the model named;
// its validator rejects an answer that names none of them, and the retry asks
// again.
func ask(ctx context.Context, model Model, step string, request *llm.Request, choices []string) (string, error) {
	return klaxon.Step(ctx, step, func(ctx context.Context) (string, error) {
		response, err := complete(ctx, model.Provider, request)
		if err != nil {
			return "", err
		}
		if choice, ok := choose(response.Content, choices); ok {
			return choice, nil
		}
		return response.Content, nil
	}, klaxon.StepTimeout(model.Timeout), klaxon.Validate(oneOf(choices)))
}

// lookUpTool is the agent's tool: a paged search of the product catalogue.
var lookUpTool = llm.Tool{
	Name:        "lookup_catalogue",
	Description: "Search the product catalogue. Results come a page at a time.",
	Parameters:  json.RawMessage(`{"type":"object","properties":{"query":{"type":"string"},"page":{"type":"integer","minimum":1}},"required":["query"]}`),
}

// lookUpProduct is enrich as an agent: each turn is a recorded model call
// named enrich, each tool it asks for a recorded tool call, until the model
// names a product. A model that never stops asking is stopped by the run's
// token budget, which every model call checks before it starts.
func lookUpProduct(ctx context.Context, model Model, request *llm.Request) (string, error) {
	request.System = "You match documents to the product catalogue. The document names no product: search the catalogue with " +
		lookUpTool.Name + ", then answer with exactly one of: " + strings.Join(catalogue, ", ") + ". Nothing else."
	request.Tools = []llm.Tool{lookUpTool}
	for {
		response, err := llm.Call(ctx, model.Provider, "enrich", request,
			llm.WithTimeout(model.Timeout), llm.WithStepOptions(klaxon.Validate(toolCallOrOneOf(catalogue))))
		if err != nil {
			return "", err
		}
		if len(response.ToolCalls) == 0 {
			product, _ := choose(response.Content, catalogue)
			return product, nil
		}
		request.Messages = append(request.Messages, llm.Message{Role: llm.RoleAssistant, Content: response.Content, ToolCalls: response.ToolCalls})
		for _, call := range response.ToolCalls {
			result, err := llm.ExecuteTool(ctx, call, searchCatalogue)
			if err != nil {
				return "", err
			}
			content := string(result.Result)
			if result.Error != "" {
				content = `{"error":` + fmt.Sprintf("%q", result.Error) + `}`
			}
			request.Messages = append(request.Messages, llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Content: content})
		}
	}
}

// searchCatalogue answers lookup_catalogue: a page of products, and always a
// next page, of discontinued lines nobody is asking about.
func searchCatalogue(_ context.Context, arguments json.RawMessage) (json.RawMessage, error) {
	var query struct {
		Query string `json:"query"`
		Page  int    `json:"page"`
	}
	if err := json.Unmarshal(arguments, &query); err != nil {
		return nil, fmt.Errorf("arguments must be {\"query\": string, \"page\": integer}: %w", err)
	}
	query.Page = max(query.Page, 1)
	type product struct {
		SKU         string `json:"sku"`
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	results := make([]product, 0, 16)
	for i := range 16 {
		sku := fmt.Sprintf("SKU-%d", 5000+query.Page*100+i)
		if query.Page == 1 && i < len(catalogue) {
			sku = catalogue[i]
		}
		results = append(results, product{SKU: sku, Name: fmt.Sprintf("Product line %d, model %d", query.Page, i),
			Description: "A product of the catalogue, with a description long enough to cost tokens when a model reads it."})
	}
	return json.Marshal(map[string]any{"query": query.Query, "page": query.Page, "results": results, "next_page": query.Page + 1})
}

// SampleDocument is the n-th document the demo enqueues. Every 40th is too
// long for the fake model's context window and every 45th holds content its
// content filter refuses: failures no retry fixes, which belong in the
// dead-letter queue. Every 50th names no product, so enrich looks for one
// with a tool, and the fake model never stops looking: the run's budget stops
// it.
func SampleDocument(n int) Document {
	subjects := []string{"Quarterly revenue", "Master services agreement", "Incident review", "Re: delivery date", "Invoice 2291"}
	subject := subjects[n%len(subjects)]
	text := fmt.Sprintf("%s. This is sample document %d, written for the Klaxon demo; it has a few sentences to extract, classify and enrich.", subject, n)
	switch {
	case n%40 == 0:
		text += strings.Repeat(" Appendix: scanned pages of tables.", 500)
	case n%45 == 0:
		text += " " + disallowedMarker
	}
	return Document{ID: fmt.Sprintf("doc-%05d", n), Title: fmt.Sprintf("%s #%d", subject, n), Text: text, LookUp: n%50 == 0}
}

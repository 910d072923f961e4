package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
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

// modelStepTimeout bounds each simulated model call.
const modelStepTimeout = 250 * time.Millisecond

// NewPipeline returns the document-processing workflow, calling model in its
// classify and enrich steps.
func NewPipeline(model *Model) *klaxon.Workflow[Document, Record] {
	return klaxon.NewWorkflow(WorkflowName, func(ctx context.Context, doc Document) (Record, error) {
		text, err := klaxon.Step(ctx, "extract", func(ctx context.Context) (extracted, error) {
			normalized := strings.Join(strings.Fields(doc.Title+" "+doc.Text), " ")
			return extracted{Words: len(strings.Fields(normalized)), Text: normalized}, nil
		})
		if err != nil {
			return Record{}, err
		}
		category, err := klaxon.Step(ctx, "classify", ask(model, "Classify: "+text.Text, categories),
			klaxon.StepTimeout(modelStepTimeout), klaxon.Validate(oneOf(categories)))
		if err != nil {
			return Record{}, err
		}
		product, err := klaxon.Step(ctx, "enrich", ask(model, "Which product is this "+category+" about? "+text.Text, catalogue),
			klaxon.StepTimeout(modelStepTimeout), klaxon.Validate(oneOf(catalogue)))
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
		klaxon.RunTimeout(30*time.Second),
	)
}

// ask is a step function that asks the model to pick one of the choices; the
// step's validator checks that it did.
func ask(model *Model, prompt string, choices []string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		return model.Complete(ctx, prompt, choices)
	}
}

// SampleDocument is the n-th document the demo enqueues. Every 40th is too
// long for the model's context window and every 45th holds content the
// provider's filter refuses: failures no retry fixes, which belong in the
// dead-letter queue.
func SampleDocument(n int) Document {
	subjects := []string{"Quarterly revenue", "Master services agreement", "Incident review", "Re: delivery date", "Invoice 2291"}
	subject := subjects[n%len(subjects)]
	text := fmt.Sprintf("%s. This is sample document %d, written for the Klaxon demo; it has a few sentences to extract, classify and enrich.", subject, n)
	switch {
	case n%40 == 0:
		text += strings.Repeat(" Appendix: scanned pages of tables.", 80)
	case n%45 == 0:
		text += " " + disallowedMarker
	}
	return Document{ID: fmt.Sprintf("doc-%05d", n), Title: fmt.Sprintf("%s #%d", subject, n), Text: text}
}

package demo

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
	"github.com/klaxonhq/klaxon/llm/openai"
)

// startFake starts a fake server that answers the given faults in order,
// then never fails.
func startFake(t *testing.T, script ...fault) *FakeLLM {
	t.Helper()
	fake, err := StartFakeLLM(FailureRates{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	fake.script = script
	fake.slow = 5 * time.Second
	t.Cleanup(func() { _ = fake.Close() })
	return fake
}

func classifyRequest(text string) *llm.Request {
	return &llm.Request{
		Model:    FakeModelName,
		System:   "You classify business documents. Answer with exactly one of: " + strings.Join(categories, ", ") + ". Nothing else.",
		Messages: []llm.Message{{Role: llm.RoleUser, Content: text}},
	}
}

// The fake server speaks the wire format the official SDK reads: answers,
// tool calls, usage and every kind of refusal come through the OpenAI adapter
// as they would from OpenAI.
func TestFakeServerSpeaksOpenAIWireFormat(t *testing.T) {
	t.Parallel()
	fake := startFake(t, faultNone, faultNone, faultNone, faultError, faultRateLimit, faultWrong, faultSlow)
	provider := openai.New(openai.WithBaseURL(fake.BaseURL()), openai.WithAPIKey(fakeAPIKey))
	ctx := context.Background()
	text := SampleDocument(7).Text

	answer, err := provider.Complete(ctx, classifyRequest(text))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := choose(answer.Content, categories); !ok || answer.FinishReason != "stop" || answer.Model != FakeModelName {
		t.Fatalf("answer = %+v", answer)
	}
	if answer.Usage.InputTokens < int64(len(text))/5 || answer.Usage.OutputTokens < 1 {
		t.Fatalf("usage %+v for a prompt of %d characters", answer.Usage, len(text))
	}
	if cost := llm.DefaultPrices.Cost(answer.Model, answer.Usage); cost.Unknown || cost.USD <= 0 {
		t.Fatalf("the fake's model is not priced: %v", cost)
	}
	again, err := provider.Complete(ctx, classifyRequest(text))
	if err != nil || again.Content != answer.Content {
		t.Fatalf("the same prompt answered %q then %q (%v)", answer.Content, again.Content, err)
	}

	// Offered a tool, the model calls it, with JSON arguments.
	agent := classifyRequest(text)
	agent.Tools = []llm.Tool{lookUpTool}
	call, err := provider.Complete(ctx, agent)
	if err != nil {
		t.Fatal(err)
	}
	if len(call.ToolCalls) != 1 || call.ToolCalls[0].Name != lookUpTool.Name || call.FinishReason != "tool_calls" || call.ToolCalls[0].ID == "" {
		t.Fatalf("tool call answer = %+v", call)
	}
	var arguments struct{ Page int }
	if err := json.Unmarshal(call.ToolCalls[0].Arguments, &arguments); err != nil || arguments.Page != 1 {
		t.Fatalf("tool arguments %s: %v", call.ToolCalls[0].Arguments, err)
	}

	for _, tc := range []struct {
		name    string
		request *llm.Request
		class   klaxontype.FailureClass
		status  int
	}{
		{"500", classifyRequest(text), klaxontype.ClassTransient, 500},
		{"429", classifyRequest(text), klaxontype.ClassRateLimited, 429},
		{"too long", classifyRequest(SampleDocument(40).Text), klaxontype.ClassContextOverflow, 400},
		{"refused", classifyRequest(SampleDocument(45).Text), klaxontype.ClassPolicyViolation, 400},
	} {
		_, err := provider.Complete(ctx, tc.request)
		var refusal *llm.ProviderError
		if !errors.As(err, &refusal) || refusal.Class != tc.class || refusal.Status != tc.status {
			t.Errorf("%s: error %v; want HTTP %d of class %s", tc.name, err, tc.status, tc.class)
			continue
		}
		if tc.class == klaxontype.ClassRateLimited && (refusal.Wait < 100*time.Millisecond || refusal.Wait > 300*time.Millisecond) {
			t.Errorf("429 asks to wait %s; want 0.1 to 0.3s", refusal.Wait)
		}
	}

	wrong, err := provider.Complete(ctx, classifyRequest(text))
	if err != nil || wrong.Content != madeUpSKU {
		t.Fatalf("wrong answer = %+v, %v", wrong, err)
	}
	if oneOf(categories)(wrong.Content) == nil {
		t.Fatal("the validator accepts the made-up answer")
	}

	timeout, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	started := time.Now()
	if _, err := provider.Complete(timeout, classifyRequest(text)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow answer: %v; want the deadline", err)
	}
	if elapsed := time.Since(started); elapsed > 2*time.Second {
		t.Fatalf("the slow answer held the client %s past its deadline", elapsed)
	}
}

// A long conversation is partly served from the prompt cache, in steps of
// 128 tokens, as OpenAI reports it.
func TestFakeServerReportsCachedTokens(t *testing.T) {
	t.Parallel()
	fake := startFake(t)
	provider := openai.New(openai.WithBaseURL(fake.BaseURL()), openai.WithAPIKey(fakeAPIKey))
	request := classifyRequest(SampleDocument(3).Text)
	request.Tools = []llm.Tool{lookUpTool}
	for range 3 {
		response, err := provider.Complete(context.Background(), request)
		if err != nil {
			t.Fatal(err)
		}
		call := response.ToolCalls[0]
		result, err := searchCatalogue(context.Background(), call.Arguments)
		if err != nil {
			t.Fatal(err)
		}
		request.Messages = append(request.Messages,
			llm.Message{Role: llm.RoleAssistant, ToolCalls: response.ToolCalls},
			llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Content: string(result)})
	}
	response, err := provider.Complete(context.Background(), request)
	if err != nil {
		t.Fatal(err)
	}
	if cached := response.Usage.CachedTokens; cached == 0 || cached%128 != 0 || cached >= response.Usage.InputTokens {
		t.Fatalf("usage %+v; want part of the input cached, in steps of 128", response.Usage)
	}
}

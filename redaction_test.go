package klaxon_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/webhook"
)

type signup struct {
	Customer struct {
		Email string `json:"email"`
	} `json:"customer"`
	Key string `json:"key"`
}

// TestRedactMasksWebhookDeliveries: a dead-letter entry of a redacted
// workflow reaches a webhook with the email and the API key masked, in its
// input and in its error messages; the store keeps them.
func TestRedactMasksWebhookDeliveries(t *testing.T) {
	t.Parallel()
	const email, key = "ada@example.com", "sk-ABCDEFGHIJKLMNOPQRSTUVWX"
	var mu sync.Mutex
	var bodies []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(body))
		mu.Unlock()
	}))
	defer receiver.Close()
	hook, err := webhook.New(receiver.URL, []byte("redaction-test-secret"))
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	wf := klaxon.NewWorkflow("redacted-signup", func(ctx context.Context, in signup) (string, error) {
		return klaxon.Step(ctx, "provision", func(context.Context) (string, error) {
			return "", klaxon.Permanent(errors.New("key " + in.Key + " refused"))
		})
	}, klaxon.Redact("$.customer.email"), klaxon.RedactPattern(regexp.MustCompile(`sk-[A-Za-z0-9]{20,}`)))
	client := startClient(t, st, deliveryConfig(map[string]klaxon.DeadLetterHandler{"review": hook}), wf)
	var in signup
	in.Customer.Email, in.Key = email, key
	result, err := wf.Enqueue(context.Background(), client, in)
	if err != nil {
		t.Fatal(err)
	}
	if run := awaitRun(t, client, result.Run.ID); run.Status != klaxontype.RunStatusDead {
		t.Fatalf("run is %s, want dead", run.Status)
	}
	entry := deadLetterOfRun(t, st, wf.Name(), result.Run.ID)
	awaitDelivery(t, st, entry.ID, 5*time.Second, "delivered", delivered)
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) == 0 {
		t.Fatal("the webhook got nothing")
	}
	for _, body := range bodies {
		if strings.Contains(body, email) || strings.Contains(body, key) || !strings.Contains(body, klaxon.RedactionMarker) {
			t.Errorf("the webhook got the secrets, or no marker: %s", body)
		}
	}
	stored, err := st.DLQGet(context.Background(), entry.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(stored.Input), email) || !strings.Contains(string(stored.Input), key) {
		t.Errorf("the stored entry lost its values: %s", stored.Input)
	}
}

// TestRedactRecordedWithTheWorkflow: Start records the rule with the
// workflow's policies, where a server without the workflow's code reads it.
func TestRedactRecordedWithTheWorkflow(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	wf := klaxon.NewWorkflow("recorded-redaction", func(context.Context, string) (string, error) { return "", nil },
		klaxon.Redact("$.customer.email"), klaxon.RedactPattern(regexp.MustCompile(`sk-\w+`)))
	startClient(t, st, nil, wf)
	workflows, err := st.WorkflowList(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range workflows {
		if info.Name == wf.Name() {
			if info.Policies == nil || strings.Join(info.Policies.Redact, ",") != "$.customer.email" ||
				strings.Join(info.Policies.RedactPatterns, ",") != `sk-\w+` {
				t.Fatalf("recorded policies %+v", info.Policies)
			}
			return
		}
	}
	t.Fatal("the workflow was not recorded")
}

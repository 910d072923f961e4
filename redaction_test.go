package klaxon_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
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

// TestRegistrationDroppingRedactionIsLoud: a Go worker that registers a
// workflow without a path its previous registration masked is not refused
// (removing a rule can be meant), but it is never quiet: a warning in its
// log and a redaction.drop record in the audit log name what is no longer
// masked. A registration keeping the rule records nothing.
func TestRegistrationDroppingRedactionIsLoud(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	noop := func(context.Context, signup) (string, error) { return "", nil }
	startClient(t, st, nil, klaxon.NewWorkflow("signup-drop", noop, klaxon.Redact("$.customer.email", "$.key")))
	startClient(t, st, nil, klaxon.NewWorkflow("signup-drop", noop, klaxon.Redact("$.customer.email", "$.key")))
	var log strings.Builder
	config := fastConfig()
	config.WorkerID = "deploy-without-rule"
	config.Logger = slog.New(slog.NewTextHandler(&lockedBuilder{b: &log}, nil))
	startClient(t, st, config, klaxon.NewWorkflow("signup-drop", noop, klaxon.Redact("$.customer.email")))

	records, err := st.AuditList(context.Background(), &store.AuditListParams{Action: klaxontype.AuditRedactionDrop})
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 1 || records[0].Actor != "deploy-without-rule" || records[0].Target != "signup-drop" ||
		!strings.Contains(string(records[0].Params), `"paths":["$.key"]`) {
		t.Fatalf("redaction.drop records: %+v; want one by deploy-without-rule, of signup-drop, naming $.key", records)
	}
	if text := log.String(); !strings.Contains(text, "level=WARN") || !strings.Contains(text, "dropped redaction rules") || !strings.Contains(text, "$.key") {
		t.Errorf("the worker's log does not warn of the dropped rule:\n%s", text)
	}
}

// lockedBuilder lets a logger write to a builder from any goroutine.
type lockedBuilder struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

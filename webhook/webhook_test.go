package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/webhook"
)

// A webhook is a dead-letter handler for a klaxon.Client's channels.
var _ klaxon.DeadLetterHandler = (*webhook.Handler)(nil)

var secret = []byte("s3cret-shared-with-the-receiver")

func sampleEntry() *klaxontype.DeadLetter {
	at := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	return &klaxontype.DeadLetter{
		ID: "01JPB6Q3Z8Y1N2M3K4J5H6G7F8", RunID: "01JPB6Q0000000000000000000",
		Workflow: "summarise-document", WorkflowVersion: 2,
		Class: klaxontype.ClassPolicyViolation, Reason: "the model refused: content policy",
		Step:     &klaxontype.FailedStep{Name: "summarise", Seq: 2},
		Input:    json.RawMessage(`{"document_id":42}`),
		Entities: map[string]string{"document_id": "42"},
		Attempts: []*klaxontype.Attempt{{
			RunID: "01JPB6Q0000000000000000000", Attempt: 1, At: at, Worker: "w1", Step: "summarise", StepSeq: 2,
			Class: klaxontype.ClassPolicyViolation, Message: "refused", ClassifiedBy: "error", Duration: time.Second,
		}},
		Channel: "security", State: klaxontype.DeadLetterOpen, CreatedAt: at, UpdatedAt: at,
	}
}

// received is one request as a test receiver saw it.
type received struct {
	header http.Header
	method string
	body   []byte
}

// receiver records requests and answers them with status and body.
func receiver(t *testing.T, status int, answer string) (*httptest.Server, func() []received) {
	t.Helper()
	var (
		mu       sync.Mutex
		requests []received
	)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("receiver: read body: %v", err)
		}
		mu.Lock()
		requests = append(requests, received{header: r.Header.Clone(), method: r.Method, body: body})
		mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(server.Close)
	return server, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), requests...)
	}
}

func newHandler(t *testing.T, endpoint string, opts ...webhook.Option) *webhook.Handler {
	t.Helper()
	handler, err := webhook.New(endpoint, secret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return handler
}

func TestHandleDeadLetterPostsTheSignedEntry(t *testing.T) {
	t.Parallel()
	server, requests := receiver(t, http.StatusNoContent, "")
	entry := sampleEntry()
	if err := newHandler(t, server.URL+"/hooks/klaxon").HandleDeadLetter(context.Background(), entry); err != nil {
		t.Fatal(err)
	}
	got := requests()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	request := got[0]
	if request.method != http.MethodPost {
		t.Errorf("method = %s, want POST", request.method)
	}
	for name, want := range map[string]string{
		"Content-Type":    "application/json",
		"User-Agent":      "klaxon-webhook",
		"Klaxon-Delivery": entry.ID,
	} {
		if value := request.header.Get(name); value != want {
			t.Errorf("header %s = %q, want %q", name, value, want)
		}
	}
	signature := request.header.Get("Klaxon-Signature")
	if !strings.HasPrefix(signature, "sha256=") || !webhook.Verify(secret, request.body, signature) {
		t.Fatalf("signature %q does not verify the body", signature)
	}
	if signature != webhook.Sign(secret, request.body) {
		t.Errorf("signature %q is not Sign of the body", signature)
	}
	// The body is the entry's own JSON encoding, so a receiver can decode it
	// into a klaxontype.DeadLetter.
	want, _ := json.Marshal(entry)
	if !bytes.Equal(request.body, want) {
		t.Fatalf("body = %s\nwant    %s", request.body, want)
	}
	var decoded klaxontype.DeadLetter
	if err := json.Unmarshal(request.body, &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded.ID != entry.ID || decoded.RunID != entry.RunID || decoded.Class != entry.Class ||
		decoded.Step == nil || decoded.Step.Name != "summarise" || len(decoded.Attempts) != 1 {
		t.Fatalf("decoded entry = %+v", decoded)
	}
}

// Any answer but a 2xx fails the delivery, so that the dispatcher retries it,
// and the error says what the receiver answered.
func TestHandleDeadLetterFailsOnRefusal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		status   int
		answer   string
		contains []string
		absent   string
	}{
		{"server error", http.StatusInternalServerError, "database is down\n",
			[]string{"500 Internal Server Error", "database is down"}, "\n"},
		{"unauthorized", http.StatusUnauthorized, "",
			[]string{"401 Unauthorized"}, ""},
		{"long page", http.StatusBadGateway, "<html>" + strings.Repeat("upstream gone ", 500) + "</html>",
			[]string{"502 Bad Gateway", "<html>upstream gone", "…"}, "</html>"},
		{"not modified", http.StatusNotModified, "",
			[]string{"304 Not Modified"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			server, requests := receiver(t, tc.status, tc.answer)
			err := newHandler(t, server.URL).HandleDeadLetter(context.Background(), sampleEntry())
			if err == nil {
				t.Fatalf("status %d gave no error", tc.status)
			}
			for _, want := range tc.contains {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if tc.absent != "" && strings.Contains(err.Error(), tc.absent) {
				t.Errorf("error %q contains %q", err, tc.absent)
			}
			if len(err.Error()) > 400 {
				t.Errorf("error is %d bytes long; it should quote only a short part of the body", len(err.Error()))
			}
			if n := len(requests()); n != 1 {
				t.Errorf("receiver got %d requests, want 1", n)
			}
		})
	}
}

// The default client does not follow redirects, and no client may turn the
// POST into a GET that would count as delivered.
func TestHandleDeadLetterRefusesRedirects(t *testing.T) {
	t.Parallel()
	target, targetRequests := receiver(t, http.StatusOK, "")
	redirector := httptest.NewServer(http.RedirectHandler(target.URL+"/moved", http.StatusFound))
	defer redirector.Close()

	err := newHandler(t, redirector.URL).HandleDeadLetter(context.Background(), sampleEntry())
	if err == nil || !strings.Contains(err.Error(), "302 Found") || !strings.Contains(err.Error(), target.URL+"/moved") {
		t.Fatalf("default client: error = %v, want the redirect named", err)
	}
	following := newHandler(t, redirector.URL, webhook.WithHTTPClient(&http.Client{Timeout: time.Second}))
	err = following.HandleDeadLetter(context.Background(), sampleEntry())
	if err == nil || !strings.Contains(err.Error(), "redirected the POST to a GET") {
		t.Fatalf("following client: error = %v, want the lost POST named", err)
	}
	for _, r := range targetRequests() {
		if r.method == http.MethodPost {
			t.Fatalf("the redirect target got a POST")
		}
	}
}

func TestHandleDeadLetterFailsWhenUnreachable(t *testing.T) {
	t.Parallel()
	server := httptest.NewServer(http.NotFoundHandler())
	endpoint := server.URL
	server.Close()
	err := newHandler(t, endpoint).HandleDeadLetter(context.Background(), sampleEntry())
	if err == nil || !strings.Contains(err.Error(), sampleEntry().ID) {
		t.Fatalf("error = %v, want a transport error naming the entry", err)
	}
}

func TestHandleDeadLetterHonoursContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer server.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := newHandler(t, server.URL).HandleDeadLetter(ctx, sampleEntry())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want the context's deadline", err)
	}
}

func TestWithHTTPClient(t *testing.T) {
	t.Parallel()
	server, requests := receiver(t, http.StatusOK, "ok")
	var used bool
	client := &http.Client{Timeout: time.Second, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(r)
	})}
	if err := newHandler(t, server.URL, webhook.WithHTTPClient(client)).HandleDeadLetter(context.Background(), sampleEntry()); err != nil {
		t.Fatal(err)
	}
	if !used || len(requests()) != 1 {
		t.Fatalf("the given client was used: %v; requests: %d", used, len(requests()))
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestHandleDeadLetterRefusesNilEntry(t *testing.T) {
	t.Parallel()
	server, requests := receiver(t, http.StatusOK, "")
	if err := newHandler(t, server.URL).HandleDeadLetter(context.Background(), nil); err == nil {
		t.Fatal("a nil entry gave no error")
	}
	if n := len(requests()); n != 0 {
		t.Fatalf("receiver got %d requests for a nil entry", n)
	}
}

func TestNewRefusesBadConfiguration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		endpoint, secret, want string
	}{
		{"https://hooks.example.com/klaxon", "", "secret is empty"},
		{"/relative/path", "k", "not an absolute http or https URL"},
		{"ftp://files.example.com/", "k", "not an absolute http or https URL"},
		{"https://user:hunter2@/no-host", "k", "not an absolute http or https URL"},
		{"http://bad host/", "k", "endpoint"},
	} {
		_, err := webhook.New(tc.endpoint, []byte(tc.secret))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q, %q) error = %v, want one containing %q", tc.endpoint, tc.secret, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error %q shows the URL's password", err)
		}
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"01JPB6Q3Z8Y1N2M3K4J5H6G7F8","class":"permanent"}`)
	signature := webhook.Sign(secret, body)
	if !webhook.Verify(secret, body, signature) {
		t.Fatal("a correct signature does not verify")
	}
	if !webhook.Verify(secret, body, "sha256="+strings.ToUpper(strings.TrimPrefix(signature, "sha256="))) {
		t.Error("an upper-case hex digest does not verify")
	}
	tampered := bytes.Replace(body, []byte("permanent"), []byte("transient"), 1)
	for name, check := range map[string]struct {
		secret, body []byte
		header       string
	}{
		"tampered body":      {secret, tampered, signature},
		"body with a space":  {secret, append(append([]byte(nil), body...), ' '), signature},
		"wrong secret":       {[]byte("another-secret"), body, signature},
		"empty secret":       {nil, body, webhook.Sign(nil, body)},
		"no prefix":          {secret, body, strings.TrimPrefix(signature, "sha256=")},
		"other algorithm":    {secret, body, "sha1=" + strings.TrimPrefix(signature, "sha256=")},
		"truncated digest":   {secret, body, signature[:len(signature)-2]},
		"not hex":            {secret, body, "sha256=" + strings.Repeat("zz", 32)},
		"empty header":       {secret, body, ""},
		"signature of other": {secret, body, webhook.Sign(secret, tampered)},
	} {
		if webhook.Verify(check.secret, check.body, check.header) {
			t.Errorf("%s: Verify accepted it", name)
		}
	}
}

func TestHandleBreakerPostsSignedEvent(t *testing.T) {
	received := make(chan *http.Request, 1)
	bodies := make(chan []byte, 1)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		received <- r
		bodies <- body
	}))
	defer server.Close()
	handler, err := webhook.New(server.URL, secret)
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	breaker := &klaxontype.Breaker{Workflow: "summarize", Open: true, Reason: "retry storm", OpenedAt: opened, Until: opened.Add(time.Hour)}
	if err := handler.HandleBreaker(context.Background(), breaker); err != nil {
		t.Fatal(err)
	}
	r, body := <-received, <-bodies
	var got klaxontype.Breaker
	if r.Header.Get(webhook.EventHeader) != "breaker.tripped" || !webhook.Verify(secret, body, r.Header.Get(webhook.SignatureHeader)) ||
		json.Unmarshal(body, &got) != nil || got.Workflow != "summarize" || !strings.HasPrefix(r.Header.Get(webhook.DeliveryHeader), "breaker:summarize:") {
		t.Fatalf("headers %v, body %s", r.Header, body)
	}
}

// Package webhook delivers dead-letter entries to an HTTP endpoint: a signed
// POST of the entry as JSON, for a dead-letter channel of a klaxon.Client.
//
// A receiver checks the Klaxon-Signature header with Verify before it trusts
// the body, and deduplicates by the Klaxon-Delivery header: delivery is at
// least once, so the same entry may arrive again after a crash or a lost
// response.
//
// This package may import only the standard library and klaxontype; it
// satisfies klaxon.DeadLetterHandler without importing the root package.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Headers of a webhook request.
const (
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the exact
	// request body under the shared secret.
	SignatureHeader = "Klaxon-Signature"
	// DeliveryHeader carries the dead-letter entry's ID (or a breaker's
	// workflow and opening time), the same on every retry, so that a receiver
	// can deduplicate.
	DeliveryHeader = "Klaxon-Delivery"
	// EventHeader says what the body is: "dead_letter" (an entry) or
	// "breaker.tripped" (a workflow breaker).
	EventHeader = "Klaxon-Event"
	// UserAgent is the User-Agent of every webhook request.
	UserAgent = "klaxon-webhook"
)

const (
	signaturePrefix = "sha256="
	// defaultTimeout bounds a request when the caller supplies no client.
	defaultTimeout = 10 * time.Second
	// errorBodyLimit is how much of a refusing response's body an error quotes:
	// enough for a message, not a whole error page.
	errorBodyLimit = 200
	// drainLimit is how much of a response body is read so that its connection
	// can be reused; a larger body costs the connection instead.
	drainLimit = 64 << 10
)

// Handler posts dead-letter entries to a URL. It is safe for concurrent use.
type Handler struct {
	url    string
	secret []byte
	client *http.Client
}

// Option configures a Handler.
type Option func(*Handler)

// WithHTTPClient sends requests with client instead of the default, an
// http.Client with a 10-second timeout that does not follow redirects. Give a
// client with a timeout: the dispatcher waits for each delivery. Whatever the
// client's redirect policy, a redirect that turns the POST into a GET (301,
// 302, 303) fails the delivery rather than counting a GET as delivered.
func WithHTTPClient(client *http.Client) Option {
	return func(h *Handler) {
		if client != nil {
			h.client = client
		}
	}
}

// New returns a handler posting to endpoint, signing each body with secret.
// The endpoint must be an absolute http or https URL and the secret must not be
// empty: an unsigned notification could not be told from a forged one.
func New(endpoint string, secret []byte, opts ...Option) (*Handler, error) {
	parsed, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("webhook: endpoint: %w", err)
	}
	if (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return nil, fmt.Errorf("webhook: endpoint %q is not an absolute http or https URL", parsed.Redacted())
	}
	if len(secret) == 0 {
		return nil, errors.New("webhook: the signing secret is empty")
	}
	h := &Handler{
		url:    endpoint,
		secret: bytes.Clone(secret),
		client: &http.Client{Timeout: defaultTimeout, CheckRedirect: refuseRedirect},
	}
	for _, opt := range opts {
		opt(h)
	}
	return h, nil
}

// HandleDeadLetter posts the entry as JSON, signed. Any response but a 2xx, and
// any transport error, is an error naming the status and the start of the
// response body; the dispatcher then retries the delivery with backoff.
func (h *Handler) HandleDeadLetter(ctx context.Context, entry *klaxontype.DeadLetter) error {
	if entry == nil {
		return errors.New("webhook: no dead-letter entry to deliver")
	}
	body, err := json.Marshal(entry)
	if err != nil {
		return fmt.Errorf("webhook: encode entry %s: %w", entry.ID, err)
	}
	return h.post(ctx, body, "dead_letter", entry.ID, "entry "+entry.ID)
}

// HandleBreaker posts a workflow breaker that opened, as JSON, signed, with
// Klaxon-Event "breaker.tripped"; Klaxon-Delivery names the workflow and when
// the breaker opened.
func (h *Handler) HandleBreaker(ctx context.Context, breaker *klaxontype.Breaker) error {
	if breaker == nil {
		return errors.New("webhook: no breaker to deliver")
	}
	body, err := json.Marshal(breaker)
	if err != nil {
		return fmt.Errorf("webhook: encode breaker of %s: %w", breaker.Workflow, err)
	}
	id := fmt.Sprintf("breaker:%s:%d", breaker.Workflow, breaker.OpenedAt.UnixMicro())
	return h.post(ctx, body, "breaker.tripped", id, "breaker of "+breaker.Workflow)
}

// post sends one signed notification.
func (h *Handler) post(ctx context.Context, body []byte, event, deliveryID, what string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(SignatureHeader, Sign(h.secret, body))
	req.Header.Set(DeliveryHeader, deliveryID)
	req.Header.Set(EventHeader, event)
	resp, err := h.client.Do(req)
	if err != nil {
		// The *url.Error names the method and the URL, without its password.
		return fmt.Errorf("webhook: deliver %s: %w", what, err)
	}
	defer resp.Body.Close()
	if resp.Request != nil && resp.Request.Method != http.MethodPost {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
		return fmt.Errorf("webhook: deliver %s: %s redirected the POST to a %s of %s", what,
			req.URL.Redacted(), resp.Request.Method, resp.Request.URL.Redacted())
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
		return nil
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit+utf8.UTFMax))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	status := resp.Status
	if location := resp.Header.Get("Location"); location != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		status += " (redirect to " + quote([]byte(location)) + ", not followed)"
	}
	if quoted := quote(excerpt); quoted != "" {
		return fmt.Errorf("webhook: deliver %s: %s answered %s: %s", what, req.URL.Redacted(), status, quoted)
	}
	return fmt.Errorf("webhook: deliver %s: %s answered %s", what, req.URL.Redacted(), status)
}

// refuseRedirect makes the default client hand back a redirect as the answer:
// following it would lose the body (301, 302, 303) or post the signed entry to
// a host nobody configured.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// quote makes a response body fit for an error message: one line, valid
// UTF-8, at most errorBodyLimit bytes and an ellipsis.
func quote(body []byte) string {
	text := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "\uFFFD")), " ")
	if len(text) <= errorBodyLimit {
		return text
	}
	cut := errorBodyLimit
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}

// Sign returns the Klaxon-Signature header value of body under secret:
// "sha256=" and the hex HMAC-SHA256 of the body.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signatureHeader, the Klaxon-Signature header of a
// request, is the signature of body under secret. Pass the body exactly as
// received, before any decoding. The comparison takes constant time, and an
// empty secret verifies nothing, so that a receiver missing its secret
// refuses every request rather than accepting forged ones.
func Verify(secret, body []byte, signatureHeader string) bool {
	if len(secret) == 0 {
		return false
	}
	digest, ok := strings.CutPrefix(strings.TrimSpace(signatureHeader), signaturePrefix)
	if !ok {
		return false
	}
	got, err := hex.DecodeString(digest)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

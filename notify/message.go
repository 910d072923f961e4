package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/template"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/store"
)

// Notification is what a template target's template is executed with: the
// fields every kind has (Kind, Channel, Event, DeliveryID, Title, Text,
// Workflow, Class, Reason, URL), and the record of its kind, the others nil.
// Write values into JSON with the json function, which quotes and escapes:
// {"text": {{json .Text}}}.
type Notification struct {
	// Kind is dead_letter, breaker, alert or approval.
	Kind klaxontype.NotificationKind
	// Channel is the outbox channel it was routed to.
	Channel string
	// Event is the Klaxon-Event a webhook gets: dead_letter,
	// breaker.tripped, alert.firing, alert.repeat, alert.resolved or
	// approval.requested.
	Event string
	// DeliveryID is the Klaxon-Delivery a webhook gets, the same on every
	// retry: a receiver deduplicates by it.
	DeliveryID string
	// Title says in a few words what happened; Text says it in a sentence
	// or two, without markup.
	Title string
	Text  string
	// Workflow, Class and Reason are the dead letter's, the breaker's
	// workflow and reason, or the alert's workflow, class and summary;
	// empty where the kind has none.
	Workflow string
	Class    string
	Reason   string
	// URL is the dashboard page of the notification's subject when the file
	// gives dashboard_url, else empty.
	URL string

	DeadLetter *klaxontype.DeadLetter
	Breaker    *klaxontype.Breaker
	Alert      *klaxontype.AlertNotification
	Approval   *klaxontype.ApprovalNotification
}

// notificationOf reads a claimed message for its targets.
func notificationOf(m *store.OutboxMessage, dashboardURL string) (*Notification, error) {
	n := &Notification{Kind: m.Kind, Channel: m.Delivery.Channel}
	link := func(fragment string) {
		if dashboardURL != "" {
			n.URL = dashboardURL + "/#/" + fragment
		}
	}
	switch payload := m.Payload.(type) {
	case *klaxontype.DeadLetter:
		n.DeadLetter = payload
		n.Event, n.DeliveryID = "dead_letter", payload.ID
		n.Workflow, n.Class, n.Reason = payload.Workflow, string(payload.Class), payload.Reason
		n.Title = fmt.Sprintf("Dead letter: %s (%s)", payload.Workflow, payload.Class)
		at := ""
		if payload.Step != nil {
			at = fmt.Sprintf(" at step %s (#%d)", payload.Step.Name, payload.Step.Seq)
		}
		n.Text = fmt.Sprintf("Run %s of workflow %s went to the dead-letter queue (channel %s) with class %s%s: %s",
			payload.RunID, payload.Workflow, m.Delivery.Channel, payload.Class, at, oneLine(payload.Reason))
		link("dlq/" + url.PathEscape(payload.ID))
	case *klaxontype.Breaker:
		n.Breaker = payload
		n.Event = "breaker.tripped"
		n.DeliveryID = fmt.Sprintf("breaker:%s:%d", payload.Workflow, payload.OpenedAt.UnixMicro())
		n.Workflow, n.Reason = payload.Workflow, payload.Reason
		n.Title = "Breaker open: " + payload.Workflow
		n.Text = fmt.Sprintf("The breaker of workflow %s opened: %s. Its runs wait until %s or until a person resets it (klaxon breaker reset %s).",
			payload.Workflow, oneLine(payload.Reason), payload.Until.UTC().Format(time.RFC3339), payload.Workflow)
		link("runs?workflow=" + url.QueryEscape(payload.Workflow))
	case *klaxontype.AlertNotification:
		if payload.Alert == nil {
			return nil, fmt.Errorf("alert notification %d carries no alert", m.Delivery.ID)
		}
		a := payload.Alert
		n.Alert = payload
		n.Event, n.DeliveryID = alert.EventHeaderValue(payload.Event), alert.DeliveryID(payload)
		n.Workflow, n.Class, n.Reason = a.Workflow, string(a.Class), a.Summary
		n.Title = fmt.Sprintf("Alert %s: %s (%s)", strings.ToUpper(string(payload.Event)), a.Rule, a.Severity)
		subject := ""
		if a.Workflow != "" {
			subject = " for workflow " + a.Workflow
		}
		n.Text = fmt.Sprintf("Alert %s %s%s (%s, %s): %s", a.Rule, payload.Event, subject, a.Kind, a.Severity, oneLine(a.Summary))
		link("alerts")
	case *klaxontype.ApprovalNotification:
		n.Approval = payload
		n.Event = "approval.requested"
		n.DeliveryID = fmt.Sprintf("approval:%s:%d", payload.RunID, payload.Seq)
		n.Workflow = payload.Workflow
		title := payload.Name
		if payload.Request != nil && payload.Request.Title != "" {
			title = payload.Request.Title
		}
		n.Title = "Approval requested: " + oneLine(title)
		n.Text = fmt.Sprintf("Run %s of workflow %s waits for a decision on %q: %s. Decide by %s in the dashboard's approvals inbox or with klaxon approvals approve|reject %s %s.",
			payload.RunID, payload.Workflow, payload.Name, oneLine(title), payload.Deadline.UTC().Format(time.RFC3339), payload.RunID, payload.Name)
		if payload.Request != nil && payload.Request.Body != "" {
			n.Reason = oneLine(payload.Request.Body)
		}
		link("approvals")
	default:
		return nil, fmt.Errorf("%s notification %d carries %T", m.Kind, m.Delivery.ID, m.Payload)
	}
	return n, nil
}

// slackMessage is a Slack incoming-webhook message.
type slackMessage struct {
	Text string `json:"text"`
}

// slackBody writes a notification as a Slack message: the title in bold,
// the text, and the dashboard link. Slack reads &, < and > as markup, so
// they are escaped in what the notification quotes.
func slackBody(n *Notification) ([]byte, error) {
	icon := map[klaxontype.NotificationKind]string{
		klaxontype.NotificationDeadLetter: ":rotating_light:",
		klaxontype.NotificationBreaker:    ":octagonal_sign:",
		klaxontype.NotificationAlert:      ":warning:",
		klaxontype.NotificationApproval:   ":raising_hand:",
	}[n.Kind]
	if n.Alert != nil && n.Alert.Event == klaxontype.AlertEventResolved {
		icon = ":white_check_mark:"
	}
	text := fmt.Sprintf("%s *%s*\n%s", icon, slackEscape(n.Title), slackEscape(n.Text))
	if n.URL != "" {
		text += fmt.Sprintf("\n<%s|Open in the Klaxon dashboard>", n.URL)
	}
	// Unescaped, so that the link reads as Slack's <URL|label> wherever the
	// body is shown; Slack decodes either form.
	var body bytes.Buffer
	encoder := json.NewEncoder(&body)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(slackMessage{Text: text}); err != nil {
		return nil, err
	}
	return bytes.TrimRight(body.Bytes(), "\n"), nil
}

func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// oneLine folds a reason's whitespace and cuts it at 500 bytes, so that a
// long error keeps a message readable.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		cut := 500
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// templateFuncs are the functions a template may call.
var templateFuncs = template.FuncMap{
	// json writes a value as JSON: a string quoted and escaped, a record
	// whole.
	"json": func(v any) (string, error) {
		data, err := json.Marshal(v)
		return string(data), err
	},
}

// parseTemplate parses a template target's template and checks it against
// a sample notification of every kind: it must execute and write valid JSON.
func parseTemplate(name, text string) (*template.Template, error) {
	tmpl, err := template.New(name).Funcs(templateFuncs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, err
	}
	for _, sample := range Samples() {
		n, err := notificationOf(sample, "https://klaxon.example.com")
		if err != nil {
			return nil, err
		}
		if _, err := templateBody(tmpl, n); err != nil {
			return nil, fmt.Errorf("with a sample %s notification: %w", sample.Kind, err)
		}
	}
	return tmpl, nil
}

// templateBody executes a template and checks that it wrote JSON.
func templateBody(tmpl *template.Template, n *Notification) ([]byte, error) {
	var body bytes.Buffer
	if err := tmpl.Execute(&body, n); err != nil {
		return nil, err
	}
	if !json.Valid(body.Bytes()) {
		var syntax *json.SyntaxError
		err := json.Unmarshal(body.Bytes(), new(any))
		if errors.As(err, &syntax) {
			return nil, fmt.Errorf("the body is not valid JSON: %v at byte %d of %s", syntax, syntax.Offset, quoteBody(body.Bytes()))
		}
		return nil, fmt.Errorf("the body is not valid JSON: %s", quoteBody(body.Bytes()))
	}
	return body.Bytes(), nil
}

func quoteBody(body []byte) string {
	return fmt.Sprintf("%q", oneLine(string(body)))
}

// Samples are one notification of each kind, as a dispatcher claims them:
// what a template is checked against, and what klaxon channels check
// shows being delivered.
func Samples() []*store.OutboxMessage {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	entry := &klaxontype.DeadLetter{
		ID: "01JSAMPLEDEADLETTER0000000", RunID: "01JSAMPLERUN00000000000000", Workflow: "summarize-document",
		WorkflowVersion: 1, Class: klaxontype.ClassPermanent, Reason: `model answered "400 Bad Request": input too long`,
		Step: &klaxontype.FailedStep{Name: "classify", Seq: 2}, Input: json.RawMessage(`{"document_id":"42"}`),
		Entities: map[string]string{"document_id": "42"}, Channel: "review", State: klaxontype.DeadLetterOpen,
		CreatedAt: at, UpdatedAt: at,
	}
	breaker := &klaxontype.Breaker{
		Workflow: "summarize-document", Open: true, Reason: "retry storm: 40 of 50 attempts failed in 1m0s",
		OpenedAt: at, Until: at.Add(5 * time.Minute), OpenedBy: "worker-1",
	}
	firing := &klaxontype.AlertNotification{Event: klaxontype.AlertEventFiring, Sequence: 1, Alert: &klaxontype.Alert{
		ID: "01JSAMPLEALERT000000000000", Rule: "dlq-spike", Kind: klaxontype.AlertDLQSpike, Workflow: "summarize-document",
		Class: klaxontype.ClassPermanent, Severity: klaxontype.SeverityCritical, State: klaxontype.AlertFiring,
		Summary: "12 permanent dead letters in 10m, 6 times the baseline", Value: 12, Threshold: 2,
		StartedAt: at, Notifications: 1, RunIDs: []string{"01JSAMPLERUN00000000000000"}, EvaluatedAt: at,
	}}
	delivery := func(id int64, channel string) *klaxontype.Delivery {
		return &klaxontype.Delivery{ID: id, EntryID: "sample", Channel: channel, State: klaxontype.DeliveryPending}
	}
	return []*store.OutboxMessage{
		{Delivery: delivery(1, "review"), Kind: klaxontype.NotificationDeadLetter, Payload: entry},
		{Delivery: delivery(2, "ops"), Kind: klaxontype.NotificationBreaker, Payload: breaker},
		{Delivery: delivery(3, "ops"), Kind: klaxontype.NotificationAlert, Payload: firing},
		{Delivery: delivery(4, "approvals"), Kind: klaxontype.NotificationApproval, Payload: &klaxontype.ApprovalNotification{
			RunID: "01JSAMPLERUN00000000000000", Workflow: "summarize-document", Name: "publish", Seq: 3,
			Request:     &klaxontype.ApprovalRequest{Title: "Publish the summary of document 42?", Body: "The summary cites a confidential source."},
			RequestedAt: at, Deadline: at.Add(48 * time.Hour),
		}},
	}
}

// Body is what a target receives for a notification: the JSON body and the
// headers besides Content-Type and User-Agent. klaxon channels check shows
// it; a Deliverer posts it.
func (t *Target) Body(n *Notification) (body []byte, headers map[string]string, err error) {
	n = t.withheld(n)
	switch t.Type {
	case TargetSlack:
		body, err = slackBody(n)
		return body, nil, err
	case TargetTemplate:
		body, err = templateBody(t.Template, n)
		return body, map[string]string{deliveryHeader: n.DeliveryID, eventHeader: n.Event}, err
	}
	switch {
	case n.DeadLetter != nil:
		body, err = json.Marshal(n.DeadLetter)
	case n.Breaker != nil:
		body, err = json.Marshal(n.Breaker)
	case n.Approval != nil:
		body, err = json.Marshal(n.Approval)
	default:
		body, err = json.Marshal(n.Alert)
	}
	return body, map[string]string{deliveryHeader: n.DeliveryID, eventHeader: n.Event}, err
}

// Preview is the body a target would receive for the sample dead letter of
// Samples, routed to its channel: what klaxon channels check shows.
func (c *Config) Preview(t *Target) ([]byte, error) {
	sample := Samples()[0]
	delivery := *sample.Delivery
	delivery.Channel = t.Channel
	sample.Delivery = &delivery
	n, err := notificationOf(sample, c.DashboardURL)
	if err != nil {
		return nil, err
	}
	body, _, err := t.Body(n)
	return body, err
}

// withheld is the notification as the target may see it: a dead-letter
// entry's input omitted or redacted as the target says, on a copy, so that
// the channel's other targets get theirs.
func (t *Target) withheld(n *Notification) *Notification {
	if n.DeadLetter == nil || (!t.OmitPayload && len(t.Redact) == 0) {
		return n
	}
	copied := *n
	entry := *n.DeadLetter
	if t.OmitPayload {
		entry.Input = nil
	} else {
		entry.Input = redact.PathRule(t.Redact...).JSON(entry.Input)
	}
	copied.DeadLetter = &entry
	return &copied
}

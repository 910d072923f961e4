package alert

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Notification is the body a json target receives: the event, its number
// among the alert's notifications (the firing one is 1), and the alert as
// GET /api/v1/alerts shows it, as of the event.
type Notification = klaxontype.AlertNotification

// EventHeaderValue is the Klaxon-Event header of a notification:
// alert.firing, alert.repeat or alert.resolved.
func EventHeaderValue(event klaxontype.AlertEvent) string { return "alert." + string(event) }

// DeliveryID is the Klaxon-Delivery header of a notification, the same on
// every retry of it and different for each notification of an alert, so that
// a receiver can drop a duplicate: alert:ID:SEQUENCE.
func DeliveryID(n *Notification) string { return fmt.Sprintf("alert:%s:%d", n.Alert.ID, n.Sequence) }

// slackMessage is a Slack-compatible incoming-webhook message.
type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// body encodes a notification in a target's format.
func body(format Format, n *Notification) ([]byte, error) {
	if format == FormatSlack {
		return json.Marshal(slackOf(n))
	}
	return json.Marshal(n)
}

// slackOf writes a notification as a Slack message: a one-line text (what
// notifications and clients without blocks show), and blocks with the
// summary and the figures.
func slackOf(n *Notification) *slackMessage {
	a := n.Alert
	label := map[klaxontype.AlertEvent]string{
		klaxontype.AlertEventFiring:   "FIRING",
		klaxontype.AlertEventRepeat:   "STILL FIRING",
		klaxontype.AlertEventResolved: "RESOLVED",
	}[n.Event]
	icon := ":rotating_light:"
	if a.Severity == klaxontype.SeverityWarning {
		icon = ":warning:"
	}
	if n.Event == klaxontype.AlertEventResolved {
		icon = ":white_check_mark:"
	}
	text := fmt.Sprintf("%s [%s] %s (%s): %s", icon, label, a.Rule, a.Severity, a.Summary)
	facts := []string{
		fmt.Sprintf("*kind* %s", a.Kind),
		fmt.Sprintf("*value* %s", number(a.Value)),
		fmt.Sprintf("*threshold* %s", number(a.Threshold)),
		fmt.Sprintf("*since* %s", a.StartedAt.UTC().Format(time.RFC3339)),
	}
	if a.ResolvedAt != nil {
		facts = append(facts, fmt.Sprintf("*resolved* %s", a.ResolvedAt.UTC().Format(time.RFC3339)))
	}
	context := []slackText{{Type: "mrkdwn", Text: strings.Join(facts, " · ")}}
	if len(a.RunIDs) > 0 {
		runs := a.RunIDs
		more := ""
		if len(runs) > 5 {
			runs, more = runs[:5], fmt.Sprintf(" and %d more", len(a.RunIDs)-5)
		}
		context = append(context, slackText{Type: "mrkdwn", Text: "*runs* `" + strings.Join(runs, "` `") + "`" + more})
	}
	context = append(context, slackText{Type: "mrkdwn", Text: "alert `" + a.ID + "` · `klaxon alerts`"})
	return &slackMessage{
		Text: text,
		Blocks: []slackBlock{
			{Type: "section", Text: &slackText{Type: "mrkdwn", Text: fmt.Sprintf("%s *[%s] %s* (%s)\n%s", icon, label, a.Rule, a.Severity, a.Summary)}},
			{Type: "context", Elements: context},
		},
	}
}

// number prints a figure without needless decimals.
func number(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.6g", v)
}

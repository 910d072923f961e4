// Package notify delivers the store's outbox notifications (dead-letter
// entries, breakers that opened, alerts) to the targets of a channels file:
// signed webhooks, Slack incoming webhooks and generic JSON bodies written by
// a template. It is what klaxon server runs with --channels, so that a team
// without a Go program of its own still hears of its dead letters.
//
// A channels file (Parse, LoadFile) maps each outbox channel to one or more
// targets and is checked whole before anything is delivered: an unknown
// field or target type, a missing or malformed URL, an environment variable
// that is not set, a template that fails or writes invalid JSON for any kind
// of notification is an error naming the channel, the target, the field and
// the line. A Deliverer runs the outbox dispatcher of internal/outbox over
// the file's channels: it claims each notification once across every server
// of the database, sends it to all of its channel's targets at once, each
// under its own timeout, and retries only the targets that failed, with
// backoff. A target that keeps failing raises an alert
// (klaxontype.AlertNotificationFailing), once, and resolves it when it takes
// a notification again.
//
// It is a leaf that only commands import. It may import only the standard
// library, klaxontype, store, internal/outbox, webhook, alert, redact,
// github.com/oklog/ulid/v2 and go.yaml.in/yaml/v3.
package notify

// Package alert evaluates alert rules against a Klaxon store and notifies
// webhooks of the alerts they raise: dead-letter rates and spikes by workflow
// and failure class, spend and cost-per-run spikes against a trailing
// baseline, budget overruns, open breakers, stuck runs, and workflows whose
// runs wait with no live worker.
//
// Rules come from a YAML file (Parse, LoadFile) or the built-in Defaults. An
// Evaluator measures them through Storage, a narrow view of the store, at the time of the clock
// it is given, and records each alert's episode in the store: it fires once,
// repeats at its rule's interval while it fires, and resolves when its
// condition clears, each change with its notifications written to the store's
// outbox in the same transaction. A Notifier delivers those notifications to
// the targets, generic JSON (signed like package webhook) or Slack-compatible,
// through the outbox dispatcher that clients use for dead-letter
// notifications (internal/outbox).
//
// It is a leaf that only commands import. It may import only the standard
// library, klaxontype, store, internal/outbox, webhook,
// github.com/oklog/ulid/v2 and go.yaml.in/yaml/v3.
package alert

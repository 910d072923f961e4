// Package metrics exports Klaxon's Prometheus metrics, in two halves that a
// program registers on a registry of its own (nothing is registered
// globally):
//
//   - Engine counts what this process's workers see, through the client's
//     hooks (Config.OnStep, OnAttempt and OnSpend): step attempts and their
//     duration, attempts by result, tokens and cost of model calls, retries,
//     tokens and cost per run, runs whose manifest was incomplete. Instrument
//     installs it on a klaxon.Config, chaining any hooks already there. Each
//     worker process exports its own; Prometheus sums them.
//   - StoreCollector reads the store when scraped, so its numbers are right
//     however many worker processes share the store: runs by workflow and
//     status, dead-letter entries by workflow and class (open, and created
//     ever), suppressed duplicates by workflow, breakers and the outbox
//     backlog, and the workflow totals (klaxon_workflow_*: runs, attempts,
//     retries, tokens, dollars, runs of unknown price, incomplete manifests)
//     that deleting old runs never lowers. Every process that serves it
//     reports the same figures: aggregate them with max. Register it in one
//     process of a program (the klaxon server does), not in every worker.
//
// It is an adapter: nothing in Klaxon's core imports it. It may import only
// the standard library, the root package, klaxontype, store and
// github.com/prometheus/client_golang.
package metrics

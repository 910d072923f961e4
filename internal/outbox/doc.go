// Package outbox delivers the notifications of the store's outbox, whatever
// their kind: it claims those due on its channels, hands each to a delivery
// function, records the outcome, and retries a failed one with backoff until
// it is delivered or given up. A client's dead-letter and breaker
// notifications and klaxon server's alert notifications go through the same
// loop; only the delivery function differs.
//
// It may import only the standard library, klaxontype and store; never a
// store implementation, and never the root package or alert.
package outbox

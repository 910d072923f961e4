// Package demo is Klaxon's demonstration job: a document-processing workflow
// whose model calls are simulated and fail the way real ones do (errors, slow
// answers past the step timeout, wrong answers, panics), and a runner that
// enqueues runs, works them and summarises what happened.
//
// It may import the root package, klaxontype and store; the command wires it to
// a concrete store.
package demo

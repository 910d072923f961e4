// Package scenarios describes Klaxon's behaviour once, as language-neutral
// scenarios: each a workflow shape (its steps and what each does) and the
// outcome every worker, in any language, must reach for it. The catalog is
// testdata/scenarios.json; one interpreter per language registers every
// scenario as a workflow, and the package's test runs them all through a real
// klaxon server and asserts the same outcomes for every language.
//
// It may import only the standard library: the interpreters of every language
// and the test harness read the catalog and speak to the effects server
// through it, so it must not pull in the engine.
//
// Adding a language is writing its interpreter (a program that registers
// every scenario of the catalog, prints "ready", and works runs until
// SIGTERM; see goworker and pyworker) and one entry in the harness's table of
// languages.
//
// Run them with go test -race ./internal/scenarios/... (they start processes,
// so -short skips them); with KLAXON_TEST_POSTGRES_URL set, TestScenariosPostgres
// runs them again on a PostgreSQL schema per language. A language whose
// worker cannot run here (no Python SDK in the tree, no python3) is skipped
// with a message saying why.
package scenarios

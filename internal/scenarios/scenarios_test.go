package scenarios_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/internal/scenarios"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/postgres/pgtest"
)

const catalogPath = "testdata/scenarios.json"

// defaultParallel is how many of this package's parallel tests run at once
// unless -parallel says otherwise. Go's default, GOMAXPROCS, suits tests that
// compute; these wait on servers and worker processes (leases expiring,
// backoffs ending), so on a 2-core machine two at a time left the
// scenarios running one language after another for minutes of idle CPU.
// Twelve was slower than eight on the shared 2-core machine (contention),
// and saw more leases lost under load.
const defaultParallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", strconv.Itoa(defaultParallel))
	}
	code := m.Run()
	closePeople()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// TestScenarios runs every scenario of the catalog against every language's
// worker, on a fresh SQLite file: TestScenarios/go/semantic_validator,
// TestScenarios/python/semantic_validator, … The catalog and the assertions
// are the same for every language, so a behaviour that differs between
// languages fails.
//
// Each language's run has a server, a database and workers of its own, so
// the languages, and the two stores, run side by side: most of a scenario's
// time is spent waiting (for a lease to expire, a backoff to end), not
// computing, and one after the other they made this package the slowest of
// CI.
func TestScenarios(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the scenarios build and start a server and worker processes; skipped in -short mode")
	}
	for _, lang := range languages {
		t.Run(lang.name, func(t *testing.T) {
			t.Parallel()
			runScenarios(t, lang, func(t *testing.T) string { return filepath.Join(t.TempDir(), "klaxon.db") })
		})
	}
}

// TestScenariosPostgres runs the same on PostgreSQL, a schema per language,
// when KLAXON_TEST_POSTGRES_URL names a server.
func TestScenariosPostgres(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the scenarios build and start a server and worker processes; skipped in -short mode")
	}
	pgtest.DatabaseURL(t)
	for _, lang := range languages {
		t.Run(lang.name, func(t *testing.T) {
			t.Parallel()
			runScenarios(t, lang, func(t *testing.T) string { return pgtest.SchemaURL(t, "klaxon_scenarios_") })
		})
	}
}

// environment is what one language's run of the catalog shares: the server,
// its database and the effects server.
type environment struct {
	bins    binaries
	db      string
	server  string
	api     *api
	effects *scenarios.Effects
	// effectsURL is the effects server's URL, handed to workers.
	effectsURL string
	// catalogPath is the catalog's absolute path, handed to workers.
	catalogPath string
	catalog     *scenarios.Catalog
}

// workerOptions say how to start a worker process.
type workerOptions struct {
	// only are the scenarios it hosts; none: every scenario that needs no
	// worker of its own.
	only        []string
	lease       time.Duration
	concurrency int
}

// language starts worker processes of one language.
type language struct {
	name string
	// available reports why the language cannot run here, or "".
	available func(t *testing.T, env *environment) string
	// startWorker starts a worker and returns once it has registered its
	// workflows.
	startWorker func(t *testing.T, env *environment, options workerOptions) *process
}

var languages = []language{goLanguage, pythonLanguage, pythonAsyncLanguage}

func runScenarios(t *testing.T, lang language, database func(t *testing.T) string) {
	catalog, err := scenarios.Load(catalogPath)
	if err != nil {
		t.Fatal(err)
	}
	absCatalog, err := filepath.Abs(catalogPath)
	if err != nil {
		t.Fatal(err)
	}
	effects := scenarios.NewEffects()
	effectsServer := httptest.NewServer(effects.Handler())
	t.Cleanup(effectsServer.Close)
	bins := build(t)
	env := &environment{
		bins: bins, db: database(t), effects: effects,
		effectsURL: effectsServer.URL, catalogPath: absCatalog, catalog: catalog,
	}
	env.server = startServer(t, bins, env.db)
	env.api = &api{base: env.server, client: &http.Client{Timeout: 30 * time.Second}}
	if reason := lang.available(t, env); reason != "" {
		t.Skip(reason)
	}
	// Long enough that a loaded CI machine's stalled heartbeat does not
	// lose a run: with every language and store side by side on two
	// cores, a worker process may not get the CPU for seconds, and 6 s
	// leases were seen expiring under live workers. No scenario of the
	// shared worker expects a takeover; the takeover scenarios start
	// workers of their own with short leases.
	lang.startWorker(t, env, workerOptions{lease: 20 * time.Second, concurrency: 64})
	for _, scenario := range catalog.Scenarios {
		if scenario.Child {
			continue // started by the scenarios whose steps fan out to it
		}
		t.Run(scenario.Name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, lang, env, scenario)
		})
	}
}

// scenarioRun is one run of a scenario in one language, while the harness
// drives it.
type scenarioRun struct {
	t        *testing.T
	ctx      context.Context
	lang     language
	env      *environment
	scenario *scenarios.Scenario
	// key names the run on the effects server.
	key   string
	runID string
	// first is the scenario's first dedicated worker, if it has any.
	first *process
}

// runTimeout bounds each wait for a run to end or for a step to block.
const runTimeout = 30 * time.Second

// runScenario enqueues one run of the scenario, performs its action, and
// asserts its outcome.
func runScenario(t *testing.T, lang language, env *environment, scenario *scenarios.Scenario) {
	r := &scenarioRun{
		t: t, ctx: context.Background(), lang: lang, env: env, scenario: scenario,
		key: lang.name + "/" + scenario.Name + "/" + randomSuffix(),
	}
	// Whatever happens, no step stays blocked after the test.
	t.Cleanup(func() {
		env.effects.Release(r.key, r.blockedStep())
		r.releaseChildren()
	})
	if scenario.Dedicated() {
		r.first = r.startDedicatedWorker()
	}
	var err error
	if r.runID, err = env.api.enqueue(r.ctx, scenario.Name, scenarios.Input{Key: r.key}); err != nil {
		t.Fatal(err)
	}
	t.Logf("run %s, effects key %s", r.runID, r.key)

	act := r.await
	if action := scenario.Action; action != nil {
		act = map[string]func() (*klaxonhttp.RunDetail, error){
			"cancel": r.cancel, "kill": r.kill, "stale": r.stale, "resolve": r.resolveOrReplay, "replay": r.resolveOrReplay,
			"signal": r.signalEarly, "approve": r.approve, "release_children": r.childrenReleased,
		}[action.Kind]
		if act == nil {
			t.Fatalf("unknown action %q", action.Kind)
		}
	}
	detail, err := act()
	if err != nil {
		t.Fatal(err)
	}
	entry, err := env.api.deadLetter(r.ctx, r.runID)
	if err != nil {
		t.Fatal(err)
	}
	assertOutcome(t, scenario.Expect, observe(detail, entry, env.effects.Counts(r.key)))
}

func (r *scenarioRun) blockedStep() string {
	if r.scenario.Action == nil {
		return ""
	}
	return r.scenario.Action.Step
}

// startDedicatedWorker starts a worker that hosts only this scenario, with
// one slot and a short lease, so that a takeover comes soon and the worker
// cannot claim the run back itself while its step is stuck.
func (r *scenarioRun) startDedicatedWorker() *process {
	return r.lang.startWorker(r.t, r.env, workerOptions{only: []string{r.scenario.Name}, lease: time.Second, concurrency: 1})
}

// await waits for the run to end.
func (r *scenarioRun) await() (*klaxonhttp.RunDetail, error) {
	return r.env.api.awaitRun(r.ctx, r.runID, 0, runTimeout)
}

// waitBlocked returns once the action's step blocks on the effects server.
func (r *scenarioRun) waitBlocked() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, runTimeout)
	defer cancel()
	if err := r.env.effects.WaitBlocked(ctx, r.key, r.blockedStep()); err != nil {
		r.t.Fatal(err)
	}
}

// cancel cancels the run while its step blocks.
func (r *scenarioRun) cancel() (*klaxonhttp.RunDetail, error) {
	r.waitBlocked()
	if err := r.env.api.cancel(r.ctx, r.runID); err != nil {
		return nil, fmt.Errorf("cancel: %w", err)
	}
	detail, err := r.await()
	r.env.effects.Release(r.key, r.blockedStep())
	return detail, err
}

// kill SIGKILLs the worker inside its step and starts another, which takes
// the run over once the lease expires.
func (r *scenarioRun) kill() (*klaxonhttp.RunDetail, error) {
	r.waitBlocked()
	r.first.kill()
	r.startDedicatedWorker()
	return r.await()
}

// stale freezes the worker inside its step (a long GC pause, a suspended
// VM): its lease expires, and a second worker takes the run over and
// completes it. Then the first resumes, its step returns, and it checkpoints
// late: the fence must refuse that, as a duplicate.suppressed event.
func (r *scenarioRun) stale() (*klaxonhttp.RunDetail, error) {
	r.waitBlocked()
	process := r.first.cmd.Process
	if err := process.Signal(syscall.SIGSTOP); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { _ = process.Signal(syscall.SIGCONT) })
	r.startDedicatedWorker()
	if _, err := r.await(); err != nil {
		return nil, err
	}
	// Writes wait while the first worker resumes: its step returns and
	// sends its checkpoint before its first heartbeat, held up too, can
	// tell it of the takeover (a worker told first would rightly send
	// nothing, and there would be no late checkpoint to see).
	release := holdWrites(r.t, r.env.db)
	r.env.effects.Release(r.key, r.blockedStep())
	time.Sleep(50 * time.Millisecond) // the answer reaches the frozen worker's socket
	err := process.Signal(syscall.SIGCONT)
	if err == nil {
		time.Sleep(500 * time.Millisecond)
	}
	release()
	if err != nil {
		r.t.Fatal(err)
	}
	var detail *klaxonhttp.RunDetail
	err = eventually(r.ctx, 10*time.Second, func() (bool, error) {
		var err error
		detail, err = r.env.api.run(r.ctx, r.runID)
		return err == nil && suppressedStep(detail, r.blockedStep()), err
	})
	if err != nil {
		return nil, fmt.Errorf("the stale worker's late checkpoint of %s left no duplicate.suppressed event: %w\n%s", r.blockedStep(), err, eventLog(detail))
	}
	return detail, nil
}

// resolveOrReplay waits for the run to die, then resolves its dead-letter
// entry with the action's output, or replays it from the action's step, and
// waits for the run to end again.
func (r *scenarioRun) resolveOrReplay() (*klaxonhttp.RunDetail, error) {
	detail, err := r.await()
	if err != nil {
		return nil, err
	}
	action := r.scenario.Action
	entry, err := r.env.api.deadLetter(r.ctx, r.runID)
	if err != nil || entry == nil {
		return nil, fmt.Errorf("the run is %s with no dead-letter entry to %s (%v)", detail.Run.Status, action.Kind, err)
	}
	if action.Kind == "resolve" {
		err = r.env.api.resolve(r.ctx, entry.ID, action.Step, action.Output)
	} else {
		err = r.env.api.replayFromStep(r.ctx, entry.ID, action.Step)
	}
	if err != nil {
		return nil, fmt.Errorf("%s the dead-letter entry: %w", action.Kind, err)
	}
	return r.env.api.awaitRun(r.ctx, r.runID, detail.Run.Attempt, runTimeout)
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// suppressedStep reports whether the event log holds a refused write of
// step.
func suppressedStep(detail *klaxonhttp.RunDetail, step string) bool {
	return slices.ContainsFunc(detail.Events, func(e *klaxontype.Event) bool {
		return e.Type == klaxontype.EventDuplicateSuppressed && e.Step == step
	})
}

// outcome is what the harness saw of a run, in the catalog's terms.
type outcome struct {
	scenarios.Expected
	events       []string
	messages     []string
	retryDelayMS int64
}

func observe(detail *klaxonhttp.RunDetail, entry *klaxontype.DeadLetter, effects map[string]int) outcome {
	run := detail.Run
	seen := outcome{Expected: scenarios.Expected{
		Status: string(run.Status), Attempts: run.Attempt, AttemptClasses: []string{},
		Steps: []scenarios.StepRecord{}, Effects: effects, Output: run.Output, Tokens: run.Spend.Usage.Total(),
	}, retryDelayMS: -1}
	if run.Failure != nil {
		seen.Class = string(run.Failure.Class)
		seen.FailedStep = run.Failure.Step
		seen.Reason = run.Failure.Reason
	}
	if !run.Spend.Cost.Unknown && run.Spend.Cost.USD != 0 {
		seen.CostUSD = &run.Spend.Cost.USD
	}
	for _, attempt := range detail.Attempts {
		seen.AttemptClasses = append(seen.AttemptClasses, string(attempt.Class))
		seen.messages = append(seen.messages, attempt.Message)
	}
	for _, step := range detail.Steps {
		record := scenarios.StepRecord{Name: step.Name, Status: string(step.Status)}
		var output scenarios.StepOutput
		if json.Unmarshal(step.Output, &output) == nil {
			record.Execution = output.Execution
		}
		seen.Steps = append(seen.Steps, record)
		if len(detail.Attempts) > 0 && step.Attempt > detail.Attempts[0].Attempt {
			delay := step.StartedAt.Sub(detail.Attempts[0].At).Milliseconds()
			if seen.retryDelayMS < 0 || delay < seen.retryDelayMS {
				seen.retryDelayMS = delay
			}
		}
	}
	if detail.Family != nil {
		for _, child := range detail.Family.Children {
			seen.Children = append(seen.Children, string(child.Status))
		}
	}
	for _, event := range detail.Events {
		seen.events = append(seen.events, string(event.Type))
		if event.Type != klaxontype.EventDuplicateSuppressed {
			seen.Events = append(seen.Events, string(event.Type))
		}
	}
	if entry != nil {
		seen.Channel = entry.Channel
		seen.DeadLetterState = string(entry.State)
	}
	return seen
}

// assertOutcome compares what the harness saw with what the catalog expects.
func assertOutcome(t *testing.T, want scenarios.Expected, seen outcome) {
	t.Helper()
	check := func(what string, got, expected any) {
		t.Helper()
		if !reflect.DeepEqual(got, expected) {
			t.Errorf("%s: got %v, want %v", what, got, expected)
		}
	}
	check("status", seen.Status, want.Status)
	check("failure class", seen.Class, want.Class)
	check("failed step", seen.FailedStep, want.FailedStep)
	check("attempts", seen.Attempts, want.Attempts)
	check("classes of the failed attempts", seen.AttemptClasses, orEmpty(want.AttemptClasses))
	check("dead-letter channel", seen.Channel, want.Channel)
	check("dead-letter state", seen.DeadLetterState, want.DeadLetterState)
	check("side effects", seen.Effects, want.Effects)
	steps := slices.Clone(seen.Steps)
	for i := range steps {
		if i < len(want.Steps) && want.Steps[i].Execution == 0 {
			steps[i].Execution = 0 // not asserted
		}
	}
	check("step log", steps, orEmpty(want.Steps))
	if want.Output != nil {
		var got, expected any
		_ = json.Unmarshal(seen.Output, &got)
		_ = json.Unmarshal(want.Output, &expected)
		check("output", got, expected)
	}
	if !strings.HasPrefix(seen.Reason, want.Reason) {
		t.Errorf("failure reason: got %q, want it to begin %q", seen.Reason, want.Reason)
	}
	if want.AttemptMessages != nil {
		if len(seen.messages) != len(want.AttemptMessages) {
			t.Errorf("attempt messages: got %q, want %d beginning %q", seen.messages, len(want.AttemptMessages), want.AttemptMessages)
		} else {
			for i, prefix := range want.AttemptMessages {
				if !strings.HasPrefix(seen.messages[i], prefix) {
					t.Errorf("attempt %d's message: got %q, want it to begin %q", i+1, seen.messages[i], prefix)
				}
			}
		}
	}
	if want.CostUSD != nil {
		if seen.CostUSD == nil || math.Abs(*seen.CostUSD-*want.CostUSD) > 1e-9 {
			t.Errorf("cost: got %v, want $%g", costText(seen.CostUSD), *want.CostUSD)
		}
	}
	if want.Tokens != 0 {
		check("tokens", seen.Tokens, want.Tokens)
	}
	check("event log (duplicate.suppressed left out)", orEmpty(seen.Events), orEmpty(want.Events))
	if want.Children != nil {
		check("statuses of the child runs", orEmpty(seen.Children), want.Children)
	}
	if want.MinRetryDelayMS > 0 && seen.retryDelayMS < want.MinRetryDelayMS {
		t.Errorf("the step after the failed attempt began %d ms after it; want at least %d ms", seen.retryDelayMS, want.MinRetryDelayMS)
	}
	if t.Failed() || os.Getenv("KLAXON_SCENARIOS_VERBOSE") != "" {
		observed, _ := json.Marshal(seen.Expected)
		t.Logf("observed: %s\nevent log: %v\nattempt messages: %q", observed, seen.events, seen.messages)
	}
}

func orEmpty[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

// eventLog is a run's event log, for a failure's message.
func eventLog(detail *klaxonhttp.RunDetail) string {
	if detail == nil {
		return "(no run)"
	}
	var lines []string
	for _, event := range detail.Events {
		lines = append(lines, fmt.Sprintf("%s %s %s step=%s seq=%d: %s", event.At.Format("15:04:05.000"), event.Type, event.Actor, event.Step, event.StepSeq, event.Message))
	}
	return strings.Join(lines, "\n")
}

func costText(usd *float64) string {
	if usd == nil {
		return "unknown or none"
	}
	return fmt.Sprintf("$%g", *usd)
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/protocol"
	"github.com/klaxonhq/klaxon/store"
)

// Two servers share one PostgreSQL database and serve remote workers whose
// requests go to either, as behind a load balancer. One server is
// SIGKILLed mid-run: every run still completes, and no step is executed or
// checkpointed twice.
func TestWorkerProtocolSurvivesAServerKilledMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	db := postgresSchemaURL(t)
	if code, _, stderr := run(t, nil, "migrate", "--db", db); code != exitOK {
		t.Fatalf("migrate: %s", stderr)
	}
	serverA, urlA := startServerProcess(t, db)
	_, urlB := startServerProcess(t, db)
	pool := &serverPool{urls: []string{urlA, urlB}, client: &http.Client{Timeout: 30 * time.Second}}
	steps := []string{"extract", "classify", "enrich", "transform", "store"}
	if err := pool.post(0, "/worker/register", protocol.RegisterRequest{
		Worker:    protocol.WorkerInfo{ID: "registrar", Language: "go-test"},
		Workflows: []protocol.HostedWorkflow{{Name: "pipeline", ExpectSteps: steps}},
	}, nil); err != nil {
		t.Fatal(err)
	}

	// A claim waiting on one server wakes for a run enqueued through the
	// other.
	claimed := make(chan protocol.ClaimAnswer, 1)
	go func() {
		var answer protocol.ClaimAnswer
		_ = pool.post(0, "/worker/claim", protocol.ClaimRequest{WorkerID: "waiter", Workflows: []string{"pipeline"}, Limit: 1, WaitMS: 25000, LeaseMS: 2000}, &answer)
		claimed <- answer
	}()
	time.Sleep(300 * time.Millisecond)
	const runs = 40
	for i := range runs {
		body := fmt.Sprintf(`{"workflow":"pipeline","input":%d}`, i)
		if err := pool.post(1, "/runs", json.RawMessage(body), nil); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case answer := <-claimed:
		if len(answer.Runs) != 1 {
			t.Fatalf("the waiting claim returned %+v", answer)
		}
		// Its worker is gone: the run must be taken over when the lease ends.
	case <-time.After(20 * time.Second):
		t.Fatal("a claim waiting on server A did not wake for runs enqueued through server B")
	}

	var executed sync.Map // "run/seq" -> *atomic.Int32: executions of each step
	var checkpoints atomic.Int32
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var workers sync.WaitGroup
	for w := range 6 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			worker := &protocolTestWorker{id: fmt.Sprintf("w%d", w), pool: pool, steps: steps, executed: &executed, checkpoints: &checkpoints}
			worker.work(ctx, t)
		}()
	}
	// Kill server A once the runs are under way.
	for checkpoints.Load() < 40 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	if err := serverA.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	st, err := postgres.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for {
		counts, err := st.RunCountByStatus(context.Background(), &store.RunCountByStatusParams{})
		if err != nil {
			t.Fatal(err)
		}
		if counts[klaxontype.RunStatusCompleted] == runs {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("runs by status after 2 minutes: %v", counts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	workers.Wait()
	executed.Range(func(key, value any) bool {
		if n := value.(*atomic.Int32).Load(); n != 1 {
			t.Errorf("step %s executed %d times", key, n)
		}
		return true
	})
	runList, err := st.RunList(context.Background(), &store.RunListParams{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range runList {
		events, err := st.EventList(context.Background(), run.ID)
		if err != nil {
			t.Fatal(err)
		}
		completed := map[int]int{}
		for _, event := range events {
			if event.Type == klaxontype.EventStepCompleted {
				completed[event.StepSeq]++
			}
		}
		for seq := 1; seq <= len(steps); seq++ {
			if completed[seq] != 1 {
				t.Errorf("run %s: step %d checkpointed %d times", run.ID, seq, completed[seq])
			}
		}
	}
}

// startServerProcess starts `klaxon server` on db in a child process and
// returns it with its URL.
func startServerProcess(t *testing.T, db string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "server", "--db", db, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), runAsKlaxonEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		url := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
		sent := false
		for scanner.Scan() {
			if match := url.FindString(scanner.Text()); match != "" && !sent {
				found <- match
				sent = true
			}
		}
	}()
	select {
	case url := <-found:
		return cmd, url
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not say where it listens")
		return nil, ""
	}
}

// serverPool sends each request to one of several servers, and to the next
// when one does not answer: a load balancer's behaviour.
type serverPool struct {
	urls   []string
	client *http.Client
	next   atomic.Int64
}

// post sends a request to the server of index first (-1: round robin) and
// fails over to the others on a network error.
func (p *serverPool) post(first int, path string, body, answer any) error {
	encoded, err := json.Marshal(body)
	if err != nil {
		return err
	}
	if first < 0 {
		first = int(p.next.Add(1))
	}
	var lastErr error
	for try := range 2 * len(p.urls) {
		url := p.urls[(first+try)%len(p.urls)]
		resp, err := p.client.Post(url+"/api/v1"+path, "application/json", bytes.NewReader(encoded))
		if err != nil {
			lastErr = err
			continue
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		if resp.StatusCode >= 300 {
			return &statusError{status: resp.StatusCode, body: string(data)}
		}
		if answer != nil {
			return json.Unmarshal(data, answer)
		}
		return nil
	}
	return lastErr
}

type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return fmt.Sprintf("%d %s", e.status, e.body) }

// protocolTestWorker is a minimal worker of the protocol: it claims runs,
// replays the steps their logs hold, executes and checkpoints the others,
// and completes the runs.
type protocolTestWorker struct {
	id          string
	pool        *serverPool
	steps       []string
	executed    *sync.Map
	checkpoints *atomic.Int32
}

func (w *protocolTestWorker) work(ctx context.Context, t *testing.T) {
	for ctx.Err() == nil {
		var answer protocol.ClaimAnswer
		err := w.pool.post(-1, "/worker/claim", protocol.ClaimRequest{WorkerID: w.id, Workflows: []string{"pipeline"}, Limit: 1, WaitMS: 500, LeaseMS: 2000}, &answer)
		if err != nil {
			continue // a server died under the request: ask again
		}
		for _, run := range answer.Runs {
			w.workRun(t, run)
		}
	}
}

func (w *protocolTestWorker) workRun(t *testing.T, run protocol.ClaimedRun) {
	logged := map[int]bool{}
	for _, step := range run.Steps {
		logged[step.Seq] = true
	}
	done := make([]int, 0, len(w.steps))
	for i, name := range w.steps {
		seq := i + 1
		if !logged[seq] {
			counter, _ := w.executed.LoadOrStore(fmt.Sprintf("%s/%d", run.RunID, seq), new(atomic.Int32))
			counter.(*atomic.Int32).Add(1)
			err := w.pool.post(-1, fmt.Sprintf("/worker/runs/%s/steps/%d", run.RunID, seq), protocol.CheckpointRequest{
				WorkerID: w.id, Workflow: run.Workflow, Attempt: run.Attempt, Epoch: run.Epoch, Name: name,
				IdempotencyKey: fmt.Sprintf("%s/%d/%s", run.RunID, seq, name), Output: json.RawMessage(fmt.Sprint(seq)),
			}, nil)
			var refused *statusError
			if errors.As(err, &refused) && refused.status == http.StatusConflict {
				return // another worker holds the run now
			}
			if err != nil {
				t.Errorf("checkpoint %s/%d: %v", run.RunID, seq, err)
				return
			}
			w.checkpoints.Add(1)
		}
		done = append(done, seq)
	}
	err := w.pool.post(-1, "/worker/runs/"+run.RunID+"/outcome", protocol.OutcomeRequest{
		WorkerID: w.id, Attempt: run.Attempt, Epoch: run.Epoch, Mode: run.Mode, Reclaimed: run.Reclaimed,
		Result: protocol.ResultCompleted, Output: json.RawMessage(`5`), StepsDone: done,
	}, nil)
	var refused *statusError
	if err != nil && !(errors.As(err, &refused) && refused.status == http.StatusConflict) {
		t.Errorf("outcome %s: %v", run.RunID, err)
	}
}

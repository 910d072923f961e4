package store

import (
	"context"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Workers is the workers registry: which worker processes, in which
// language and SDK, have registered which workflows, and when each was last
// heard from. It is a record for people (the CLI and the dashboard), never
// consulted by the engine's rules: a run's lease names its holder whether or
// not the holder is in the registry.
type Workers interface {
	// WorkerRegister records a worker and the workflows it hosts, replacing
	// what an earlier registration of the same ID recorded; its registration
	// and last-seen times become now.
	WorkerRegister(ctx context.Context, params *WorkerRegisterParams) error
	// WorkerSeen sets a worker's last-seen time to now. An ID the registry
	// does not know is not an error: a worker may heartbeat before its
	// registration, or one registered through an older server.
	WorkerSeen(ctx context.Context, params *WorkerSeenParams) error
	// WorkerList returns registered workers, the most recently seen first.
	WorkerList(ctx context.Context, params *WorkerListParams) ([]*klaxontype.Worker, error)
}

// Bounds of the text a worker says of itself, as the worker protocol
// declares them: a registry row stays small whatever a worker sends.
const (
	MaxWorkerIDLength      = 200
	MaxWorkerLabelLength   = 40
	MaxWorkerRuntimeLength = 200
	// MaxWorkerWorkflows is the most workflows one registration records, as
	// many as a register request may carry.
	MaxWorkerWorkflows = 1000
)

// WorkerRegisterParams is what a worker says of itself when it registers.
type WorkerRegisterParams struct {
	ID         string
	Language   string
	SDKVersion string
	Runtime    string
	// Workflows are the names of the workflows the worker hosts.
	Workflows []string
}

// Validate refuses a registration without an ID, or with text that no store
// can keep or longer than its bound. Its error matches klaxontype.ErrInvalid.
func (p *WorkerRegisterParams) Validate() error {
	if p.ID == "" {
		return invalidf("a worker registration needs the worker's ID")
	}
	if err := checkTexts("worker id", p.ID, "worker language", p.Language, "worker sdk_version", p.SDKVersion,
		"worker runtime", p.Runtime); err != nil {
		return err
	}
	for _, bound := range []struct {
		name  string
		value string
		max   int
	}{
		{"worker id", p.ID, MaxWorkerIDLength},
		{"worker language", p.Language, MaxWorkerLabelLength},
		{"worker sdk_version", p.SDKVersion, MaxWorkerLabelLength},
		{"worker runtime", p.Runtime, MaxWorkerRuntimeLength},
	} {
		if utf8.RuneCountInString(bound.value) > bound.max {
			return invalidf("%s is longer than %d characters", bound.name, bound.max)
		}
	}
	if len(p.Workflows) > MaxWorkerWorkflows {
		return invalidf("a worker registers at most %d workflows, not %d", MaxWorkerWorkflows, len(p.Workflows))
	}
	for i, name := range p.Workflows {
		if err := CheckText(fmt.Sprintf("worker workflows[%d]", i), name); err != nil {
			return err
		}
	}
	return nil
}

// WorkerSeenParams names a worker just heard from.
type WorkerSeenParams struct {
	ID string
}

// Validate refuses an empty ID or one no store can keep. Its error matches
// klaxontype.ErrInvalid.
func (p *WorkerSeenParams) Validate() error {
	if p.ID == "" {
		return invalidf("a worker heartbeat needs the worker's ID")
	}
	return CheckText("worker id", p.ID)
}

// WorkerListParams bounds WorkerList.
type WorkerListParams struct {
	// Limit caps the number of workers; zero means DefaultPageLimit.
	Limit int
}

// Validate refuses a negative limit. Its error matches klaxontype.ErrInvalid.
func (p *WorkerListParams) Validate() error {
	if p.Limit < 0 {
		return invalidf("a worker list needs a limit of zero or more")
	}
	return nil
}

// PageLimit is the most workers the list returns: Limit, or
// DefaultPageLimit when it is not set.
func (p *WorkerListParams) PageLimit() int {
	if p.Limit == 0 {
		return DefaultPageLimit
	}
	return p.Limit
}

// SortedWorkflows is the workflow names to record: sorted, each once, and
// an empty list rather than nil when there are none.
func (p *WorkerRegisterParams) SortedWorkflows() []string {
	names := append([]string{}, p.Workflows...)
	slices.Sort(names)
	return slices.Compact(names)
}

package klaxon

import (
	"context"
	"maps"
	"runtime"
	"runtime/debug"
	"slices"

	"github.com/klaxonhq/klaxon/internal/engine"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// modulePath is this module's path, whose version a Go worker reports as
// its SDK version.
const modulePath = "github.com/klaxonhq/klaxon"

// goWorkerRegistration is what the workers registry records of this
// process's worker: the same fields a worker of another language sends in
// its register request, so that the CLI and the dashboard show every worker
// alike.
func goWorkerRegistration(id string, definitions map[string]*engine.Definition) *store.WorkerRegisterParams {
	return &store.WorkerRegisterParams{
		ID: id, Language: "go", SDKVersion: sdkVersion(), Runtime: runtime.Version(),
		Workflows: slices.Sorted(maps.Keys(definitions)),
	}
}

// sdkVersion is the version of this module in the running binary: its main
// module's when the binary is Klaxon's own, its dependency's otherwise, and
// "devel" when the build recorded none (go run, tests, a replace directive).
func sdkVersion() string {
	build, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	module := &build.Main
	if module.Path != modulePath {
		module = nil
		for _, dep := range build.Deps {
			if dep.Path == modulePath {
				module = dep
				break
			}
		}
	}
	if module == nil {
		return "devel"
	}
	if module.Replace != nil && module.Replace.Version != "" {
		return module.Replace.Version
	}
	if module.Version == "" || module.Version == "(devel)" {
		return "devel"
	}
	return module.Version
}

// Workers lists the workers registry, the most recently seen first, at most
// limit of them (zero: 100): every worker that registered workflows, Go
// workers of this package and workers of other languages over the worker
// protocol alike, with its language, SDK version, runtime, workflows and
// last heartbeat. A worker's ID is the holder of the runs it leases.
func (c *Client) Workers(ctx context.Context, limit int) ([]*klaxontype.Worker, error) {
	return c.store.WorkerList(ctx, &store.WorkerListParams{Limit: limit})
}

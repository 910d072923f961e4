package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon/klaxontype"
)

func (m *Main) enqueueCommand() *cobra.Command {
	var (
		input          string
		idempotencyKey string
		entities       []string
		actor          string
		asJSON         bool
		priority       int
	)
	cmd := &cobra.Command{
		Use:   "enqueue WORKFLOW --input JSON|@FILE|-",
		Short: "Enqueue a run of a workflow that a worker registered",
		Long: `Create a run of WORKFLOW with an input given as JSON text, @FILE (a JSON file) or -
(standard input). The run is pending until a worker that has the workflow registered
claims it; this command starts no worker. A workflow no worker ever registered in the
database is refused, so that a typo creates nothing.

With --idempotency-key, a second enqueue with the same key creates nothing and prints the
run the key already created, whatever its status.

With --priority N (-100..100; default: the workflow's default priority, else 0), a higher
priority is claimed first; claims go in the order of (time available − priority × 10 s),
so a lower priority waits longer but never starves.`,
		Example: `  klaxon enqueue process-document --input '{"document_id":"doc-00042"}' --entity document_id=doc-00042
  klaxon enqueue process-document --input @doc.json --idempotency-key upload-7f3a --json
  klaxon enqueue process-document --input @doc.json --priority 10
  klaxon enqueue process-document --input @doc.json --server https://klaxon.internal:7070`,
		Args: exactArgs(1, "one workflow name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			request := &enqueueRequest{Workflow: args[0], IdempotencyKey: idempotencyKey}
			if strings.TrimSpace(request.Workflow) == "" {
				return &usageError{fmt.Errorf("the workflow name is empty")}
			}
			if input == "" {
				return &usageError{fmt.Errorf("--input is required: the run's input as JSON text, @FILE or - for standard input")}
			}
			var err error
			if request.Input, err = readInput(cmd, input); err != nil {
				return err
			}
			if request.Entities, err = parseEntityFlags(entities); err != nil {
				return err
			}
			if cmd.Flags().Changed("priority") {
				if err := klaxontype.CheckPriority(priority); err != nil {
					return &usageError{fmt.Errorf("--priority: %w", err)}
				}
				request.Priority = &priority
			}
			actorName, err := m.actor(cmd, actor)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			result, err := b.Enqueue(ctx, request, actorName)
			if errors.Is(err, klaxontype.ErrNotFound) {
				return unknownWorkflow(cmd, b, request.Workflow)
			}
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, &enqueueOutput{Run: result.Run, Deduplicated: result.Deduplicated})
			}
			run := result.Run
			if result.Deduplicated {
				fmt.Fprintf(m.Stdout, "run %s of %s already exists for idempotency key %q (%s); nothing was enqueued\n",
					run.ID, run.Workflow, run.IdempotencyKey, run.Status)
				return nil
			}
			fmt.Fprintf(m.Stdout, "run %s of %s created (%s); a worker of %s will take it\n", run.ID, run.Workflow, run.Status, run.Workflow)
			return nil
		},
	}
	m.addServerFlags(cmd)
	flags := cmd.Flags()
	flags.StringVar(&input, "input", "", "the run's input: JSON text, @FILE for a JSON file, or - for standard input (required)")
	flags.StringVar(&idempotencyKey, "idempotency-key", "", "a second enqueue with this key returns the run it created and creates nothing")
	flags.StringArrayVar(&entities, "entity", nil, "label the run key=value, to list it by (repeatable)")
	flags.StringVar(&actor, "actor", "", "who enqueues, for the event log (default: your user name); a server records its token's name instead")
	flags.IntVar(&priority, "priority", 0, "the run's priority, -100..100: higher is claimed first, aged by 10 s a step (default: the workflow's default priority)")
	flags.BoolVar(&asJSON, "json", false, "print the run and whether it was deduplicated as JSON")
	return cmd
}

// unknownWorkflow says that a workflow is not registered, naming the ones
// that are so that a typo is easy to see.
func unknownWorkflow(cmd *cobra.Command, b backend, workflow string) error {
	known, err := b.Workflows(cmd.Context())
	if err != nil {
		return fmt.Errorf("workflow %q is not registered in %s (listing the registered ones failed: %w)", workflow, b.Name(), err)
	}
	if len(known) == 0 {
		return fmt.Errorf("workflow %q is not registered in %s: no workflow is; a worker registers its workflows when it starts", workflow, b.Name())
	}
	sort.Strings(known)
	return fmt.Errorf("workflow %q is not registered in %s (registered: %s); nothing was enqueued", workflow, b.Name(), strings.Join(known, ", "))
}

// readInput reads --input: @FILE, - for standard input, or JSON text. It is
// refused if it is not JSON before anything is opened.
func readInput(cmd *cobra.Command, value string) (json.RawMessage, error) {
	if path, ok := strings.CutPrefix(value, "@"); ok {
		return readJSONFile(cmd, "input", path)
	}
	if value == "-" {
		return readJSONFile(cmd, "input", "-")
	}
	data := []byte(value)
	var decoded any
	if err := json.Unmarshal(data, &decoded); err != nil {
		return nil, &usageError{fmt.Errorf("--input is not valid JSON (give @FILE to read a file): %s", describeJSONError(data, err))}
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, &usageError{fmt.Errorf("--input is not valid JSON: %w", err)}
	}
	return compact.Bytes(), nil
}

// parseEntityFlags reads --entity key=value flags.
func parseEntityFlags(pairs []string) (map[string]string, error) {
	var entities map[string]string
	for _, pair := range pairs {
		key, value, ok := strings.Cut(pair, "=")
		if !ok || key == "" {
			return nil, &usageError{fmt.Errorf("--entity %q is not key=value", pair)}
		}
		if entities == nil {
			entities = make(map[string]string)
		}
		entities[key] = value
	}
	return entities, nil
}

// enqueueOutput is what `klaxon enqueue --json` prints: the body a server
// answers an enqueue with.
type enqueueOutput struct {
	Run          *klaxontype.Run `json:"run"`
	Deduplicated bool            `json:"deduplicated"`
}

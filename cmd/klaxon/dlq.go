package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon/klaxontype"
)

func (m *Main) dlqCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "List, inspect, replay, resolve, discard and purge dead-letter entries",
		Long: `Every run that ends dead leaves one entry in the dead-letter queue: its failure class,
reason, failed step, input, entities, every attempt and the channel it was routed to. An
entry stays open until a person (or a bulk action) replays it, resolves it by supplying the
failed step's output, or discards it; purging is the only way an entry is deleted.

These commands change the queue and make runs pending again; they start no workers. A
replayed or resolved run is worked by the workers that have its workflow registered.

With --server URL (or KLAXON_SERVER) they act through a Klaxon server instead of the
database, presenting --token (or KLAXON_TOKEN); they print the same either way.`,
		Args: subcommandsOnly("list, show, replay, resolve, discard, purge"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		m.dlqListCommand(),
		m.dlqShowCommand(),
		m.dlqReplayCommand(),
		m.dlqResolveCommand(),
		m.dlqDiscardCommand(),
		m.dlqPurgeCommand(),
	)
	m.addServerFlags(cmd)
	return cmd
}

// openEntry reads the entry a command acts on, so that an unknown ID is
// reported as such before anything is attempted.
func openEntry(ctx context.Context, b backend, id string) (*klaxontype.DeadLetter, error) {
	entry, err := b.DeadLetter(ctx, id)
	if errors.Is(err, klaxontype.ErrNotFound) {
		return nil, fmt.Errorf("dead-letter entry %s not found in %s", id, b.Name())
	}
	return entry, err
}

// actorName is who the event log records for an action: --actor, or the
// operating system's user, or "cli".
func actorName(flag string) string {
	if name := strings.TrimSpace(flag); name != "" {
		return name
	}
	if current, err := user.Current(); err == nil && current.Username != "" {
		return current.Username
	}
	return "cli"
}

// readJSONFile reads the JSON document a flag names ("-" for standard input)
// and refuses one that is not valid JSON before anything is changed.
func readJSONFile(cmd *cobra.Command, flag, path string) ([]byte, error) {
	var (
		data []byte
		err  error
	)
	name := path
	if path == "-" {
		name = "standard input"
		data, err = io.ReadAll(cmd.InOrStdin())
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, &usageError{fmt.Errorf("--%s: %w", flag, err)}
	}
	var value any
	if err := json.Unmarshal(data, &value); err != nil {
		return nil, &usageError{fmt.Errorf("--%s %s is not valid JSON: %s", flag, name, describeJSONError(data, err))}
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, &usageError{fmt.Errorf("--%s %s is not valid JSON: %w", flag, name, err)}
	}
	return compact.Bytes(), nil
}

// describeJSONError says where in the document a syntax error is.
func describeJSONError(data []byte, err error) string {
	var syntax *json.SyntaxError
	if !errors.As(err, &syntax) {
		return err.Error()
	}
	before := data[:min(int(syntax.Offset), len(data))]
	line := bytes.Count(before, []byte("\n")) + 1
	column := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d: %v", line, column, err)
}

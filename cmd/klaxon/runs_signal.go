package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

func (m *Main) runsSignalCommand() *cobra.Command {
	var (
		data   string
		entity string
		key    string
		actor  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "signal RUN_ID NAME | signal --entity KEY=VALUE NAME",
		Short: "Send a signal to a run waiting on it (WaitForSignal), by ID or by entity",
		Long: `Send a signal named NAME with a JSON payload to a run. A run waiting on that name
takes it at once and goes on; a run not yet waiting on it keeps it for its next wait of
that name (one signal of a name at a time). A payload that does not fit the waiting type,
a run that ended, or a name the run cannot wait on is refused, and nothing is recorded.

With --entity, the signal goes to the runs labelled with that entity that wait on NAME,
or else to the entity's one open run.`,
		Example: `  klaxon runs signal 01JB7Q... payment --data payment.json
  klaxon runs signal --entity order_id=42 payment --data - --key evt_123 < payment.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if entity != "" {
				return exactArgs(1, "the signal's name (the run is found by --entity)")(cmd, args)
			}
			return exactArgs(2, "a run ID and the signal's name")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if data == "" {
				return &usageError{errors.New("--data is required: a JSON file with the payload, or - for standard input")}
			}
			var entityKey, entityValue string
			if entity != "" {
				var ok bool
				entityKey, entityValue, ok = strings.Cut(entity, "=")
				if !ok || entityKey == "" || entityValue == "" {
					return &usageError{fmt.Errorf("--entity %q is not KEY=VALUE", entity)}
				}
			}
			payload, err := readJSONFile(cmd, "data", data)
			if err != nil {
				return err
			}
			actorName, err := m.actor(cmd, actor)
			if err != nil {
				return err
			}
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			var results []*klaxon.SignalResult
			if entity != "" {
				results, err = b.SignalEntity(ctx, entityKey, entityValue, args[0], payload, key, actorName)
			} else {
				var result *klaxon.SignalResult
				result, err = b.Signal(ctx, args[0], args[1], payload, key, actorName)
				results = []*klaxon.SignalResult{result}
			}
			if errors.Is(err, klaxontype.ErrNotFound) && entity == "" {
				return fmt.Errorf("run %s not found in %s; nothing was sent", args[0], b.Name())
			}
			if err != nil {
				return fmt.Errorf("%w; nothing was sent", err)
			}
			if asJSON {
				return writeJSON(m.Stdout, results)
			}
			for _, result := range results {
				printSignalResult(m, result)
			}
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&data, "data", "", "JSON file with the signal's payload, or - for standard input (required)")
	flags.StringVar(&entity, "entity", "", "send to the runs labelled KEY=VALUE instead of one run ID")
	flags.StringVar(&key, "key", "", "idempotency key: a send repeated with it answers with the first signal")
	flags.StringVar(&actor, "actor", "", "who sends, for the event and audit logs (default: your user name); a server records its token's name instead")
	flags.BoolVar(&asJSON, "json", false, "print the results as JSON")
	return cmd
}

func printSignalResult(m *Main, result *klaxon.SignalResult) {
	signal := result.Signal
	switch {
	case result.Duplicate:
		fmt.Fprintf(m.Stdout, "run %s: signal %q was sent before with this key (at %s); nothing new recorded\n",
			signal.RunID, signal.Name, signal.SentAt.Format("2006-01-02 15:04:05"))
	case result.Consumed:
		fmt.Fprintf(m.Stdout, "run %s: signal %q satisfied its wait at step %d; the run goes on\n", signal.RunID, signal.Name, signal.ConsumedSeq)
	default:
		fmt.Fprintf(m.Stdout, "run %s: signal %q kept for the run's next wait of that name\n", signal.RunID, signal.Name)
	}
}

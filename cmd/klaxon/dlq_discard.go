package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func (m *Main) dlqDiscardCommand() *cobra.Command {
	var (
		reason string
		actor  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "discard ID --reason TEXT",
		Short: "Close an entry without acting on it; the run stays dead",
		Long: `Close an open dead-letter entry without replaying or resolving it, for a failure that
needs no action. The run stays dead; the entry stays in the queue, discarded, with your
name and reason in it and in the run's event log.`,
		Example: `  klaxon dlq discard 01JB7Q... --reason "duplicate upload; the customer resent it"`,
		Args:    exactArgs(1, "one entry ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			reason = strings.TrimSpace(reason)
			if reason == "" {
				return &usageError{fmt.Errorf("--reason is required: say why the entry needs no action")}
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
			entry, err := openEntry(ctx, b, args[0])
			if err != nil {
				return err
			}
			discarded, err := b.Discard(ctx, entry.ID, reason, actorName)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, discarded)
			}
			fmt.Fprintf(m.Stdout, "dead-letter entry %s: %s by %s: %s\n", discarded.ID, discarded.State, discarded.ClosedBy, discarded.CloseReason)
			fmt.Fprintf(m.Stdout, "  run %s stays dead\n", discarded.RunID)
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&reason, "reason", "", "why the entry needs no action (required)")
	flags.StringVar(&actor, "actor", "", "who discards, for the event log (default: your user name); a server records its token's name instead")
	flags.BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

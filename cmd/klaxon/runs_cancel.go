package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon/klaxontype"
)

func (m *Main) runsCancelCommand() *cobra.Command {
	var (
		reason string
		actor  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "cancel RUN_ID",
		Short: "Stop a pending, retrying or running run for good",
		Long: `Cancel a run that has not ended. It becomes cancelled at once, with your name and reason
on the run and in its event log, and is never retried or dead-lettered. A pending or
retrying run is never claimed again; the worker executing a running run stops at its next
heartbeat or checkpoint, and nothing it sends afterwards is recorded. Compensations of
completed steps are not run.

A completed, dead or cancelled run cannot be cancelled, nor a compensating one, which ends
in the dead-letter queue (discard it there).`,
		Example: `  klaxon runs cancel 01JB7Q... --reason "the customer withdrew the document"`,
		Args:    exactArgs(1, "one run ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			actorName, err := m.actor(cmd, actor)
			if err != nil {
				return err
			}
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			detail, err := b.Run(ctx, args[0])
			if errors.Is(err, klaxontype.ErrNotFound) {
				return fmt.Errorf("run %s not found in %s", args[0], b.Name())
			}
			if err != nil {
				return err
			}
			before := detail.Run
			run, err := b.Cancel(ctx, before.ID, strings.TrimSpace(reason), actorName)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, run)
			}
			fmt.Fprintf(m.Stdout, "run %s: %s\n", run.ID, run.Failure.Reason)
			if before.Status == klaxontype.RunStatusRunning {
				fmt.Fprintf(m.Stdout, "  it was running (attempt %d, worker %s); the worker stops at its next heartbeat or checkpoint\n",
					before.Attempt, before.LeaseHolder)
			} else {
				fmt.Fprintf(m.Stdout, "  it was %s; no worker will take it\n", before.Status)
			}
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&reason, "reason", "", "why, for the run and its event log")
	flags.StringVar(&actor, "actor", "", "who cancels, for the event log (default: your user name); a server records its token's name instead")
	flags.BoolVar(&asJSON, "json", false, "print the cancelled run as JSON")
	return cmd
}

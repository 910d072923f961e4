package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon/klaxontype"
)

func (m *Main) breakerCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "breaker",
		Short: "List and reset workflow breakers (retry storms, spend-rate limits)",
		Args:  subcommandsOnly("list, reset"),
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(m.breakerListCommand(), m.breakerResetCommand())
	m.addServerFlags(cmd)
	return cmd
}

func (m *Main) breakerListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List workflow breakers; open ones hold their workflow's runs",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			breakers, err := b.Breakers(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, orEmpty(breakers))
			}
			if len(breakers) == 0 {
				fmt.Fprintln(m.Stdout, "no breaker has ever tripped")
				return nil
			}
			table := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(table, "WORKFLOW\tSTATE\tOPENED\tUNTIL\tBY\tREASON")
			for _, b := range breakers {
				state := "closed"
				if b.Open {
					state = "OPEN"
				} else if b.ResetBy != "" {
					state = "reset by " + b.ResetBy
				}
				fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\t%s\n", b.Workflow, state, formatTime(b.OpenedAt), formatTime(b.Until), b.OpenedBy, b.Reason)
			}
			return table.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func (m *Main) breakerResetCommand() *cobra.Command {
	var actor string
	cmd := &cobra.Command{
		Use:   "reset WORKFLOW",
		Short: "Close a workflow's open breaker so its waiting runs are worked again",
		Args:  exactArgs(1, "one workflow name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			actorName, err := m.actor(cmd, actor)
			if err != nil {
				return err
			}
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			if err := b.ResetBreaker(cmd.Context(), args[0], actorName); err != nil {
				if errors.Is(err, klaxontype.ErrNotFound) {
					return fmt.Errorf("workflow %q has no open breaker", args[0])
				}
				return err
			}
			fmt.Fprintf(m.Stdout, "breaker of %s reset; its waiting runs are claimable again\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&actor, "actor", "", "who resets, for the record (default: your user name); a server records its token's name instead")
	return cmd
}

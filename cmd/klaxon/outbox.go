package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	klaxonhttp "github.com/klaxonhq/klaxon/http"
)

func (m *Main) outboxCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "outbox",
		Short: "See the notifications waiting to be delivered, and give up a channel's",
		Long: `The outbox holds the dead-letter, breaker and alert notifications until a
process delivers them. They pile up on a channel that no running process
delivers any more (a removed webhook or alert target): list shows them by
channel and kind, give-up ends them with a reason, kept with your name.`,
		Args: subcommandsOnly("list, give-up"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(m.outboxListCommand(), m.outboxGiveUpCommand())
	m.addServerFlags(cmd)
	return cmd
}

func (m *Main) outboxListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Pending notifications by channel and kind: how many, since when, the last error",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			channels, err := b.PendingNotifications(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, klaxonhttp.NewOutboxChannels(channels))
			}
			if len(channels) == 0 {
				fmt.Fprintln(m.Stdout, "nothing waits in the outbox: every notification was delivered or given up")
				return nil
			}
			table := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(table, "CHANNEL\tKIND\tPENDING\tTRIED\tMOST TRIES\tOLDEST\tLAST ERROR")
			for _, c := range channels {
				lastError := c.LastError
				if lastError == "" {
					lastError = "-"
				}
				fmt.Fprintf(table, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", c.Channel, c.Kind, c.Pending, c.Attempted, c.MaxAttempts, formatTime(c.Oldest), lastError)
			}
			return table.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func (m *Main) outboxGiveUpCommand() *cobra.Command {
	var channel, reason, actor string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "give-up --channel CHANNEL --reason TEXT",
		Short: "Give up the pending notifications of a channel nobody will deliver any more",
		Long: `Gives up every pending notification of the channel that no deliverer holds at
the moment (one being delivered right now is left to finish). Each keeps
"given up by NAME: REASON" as its last error. Needs an admin token through a
server.`,
		Args: exactArgs(0, "no arguments: the channel goes in --channel"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case channel == "":
				return &usageError{errors.New("give-up needs --channel: the channel whose notifications to give up")}
			case reason == "":
				return &usageError{errors.New("give-up needs --reason: it is kept with each notification")}
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
			given, err := b.GiveUpNotifications(cmd.Context(), channel, reason, actorName)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, &klaxonhttp.GiveUpResponse{Channel: channel, GivenUp: given})
			}
			if given == 0 {
				fmt.Fprintf(m.Stdout, "nothing to give up on %s: no pending notification that no deliverer holds\n", channel)
				return nil
			}
			fmt.Fprintf(m.Stdout, "gave up %d notification(s) on %s\n", given, channel)
			return nil
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "the channel whose pending notifications to give up")
	cmd.Flags().StringVar(&reason, "reason", "", "why; kept as each notification's last error")
	cmd.Flags().StringVar(&actor, "actor", "", "who gives up, for the record (default: your user name); a server records its token's name instead")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

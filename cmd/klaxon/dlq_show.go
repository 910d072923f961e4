package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon/klaxontype"
)

func (m *Main) dlqShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a dead-letter entry with its input, attempts and notifications",
		Args:  exactArgs(1, "one entry ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			entry, err := openEntry(cmd.Context(), b, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				if entry.Attempts == nil {
					entry.Attempts = []*klaxontype.Attempt{}
				}
				return writeJSON(m.Stdout, entry)
			}
			return writeDeadLetter(m.Stdout, entry)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// writeDeadLetter prints an entry for a person: what failed and why, what was
// done about it, the input, every attempt and the notifications.
func writeDeadLetter(w io.Writer, entry *klaxontype.DeadLetter) error {
	fmt.Fprintf(w, "Dead-letter entry %s\n", entry.ID)
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(table, "  run\t%s\n", entry.RunID)
	fmt.Fprintf(table, "  workflow\t%s (version %d)\n", entry.Workflow, entry.WorkflowVersion)
	fmt.Fprintf(table, "  class\t%s\n", entry.Class)
	fmt.Fprintf(table, "  step\t%s\n", formatFailedStep(entry.Step))
	fmt.Fprintf(table, "  reason\t%s\n", entry.Reason)
	fmt.Fprintf(table, "  entities\t%s\n", formatEntities(entry.Entities))
	fmt.Fprintf(table, "  channel\t%s\n", entry.Channel)
	fmt.Fprintf(table, "  state\t%s\n", entry.State)
	fmt.Fprintf(table, "  created\t%s\n", formatTime(entry.CreatedAt))
	fmt.Fprintf(table, "  updated\t%s\n", formatTime(entry.UpdatedAt))
	if entry.ClosedBy != "" || !entry.ClosedAt.IsZero() {
		fmt.Fprintf(table, "  closed\t%s by %s\n", formatTime(entry.ClosedAt), entry.ClosedBy)
	}
	if entry.CloseReason != "" {
		fmt.Fprintf(table, "  close reason\t%s\n", entry.CloseReason)
	}
	if entry.ReplayMode != "" || entry.ReplayRunID != "" {
		fmt.Fprintf(table, "  replay\t%s as run %s\n", entry.ReplayMode, entry.ReplayRunID)
	}
	if err := table.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nInput\n%s\n", indentJSON(entry.Input))
	if len(entry.OutputSchema) > 0 && entry.Step != nil {
		fmt.Fprintf(w, "\nOutput schema of step %q (what `klaxon dlq resolve` accepts)\n  %s\n", entry.Step.Name, oneLine(entry.OutputSchema, 400))
	}

	fmt.Fprintf(w, "\nAttempts (%d)\n", len(entry.Attempts))
	if len(entry.Attempts) > 0 {
		table = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(table, "  ATTEMPT\tTIME\tWORKER\tSTEP\tCLASS\tCLASSIFIED BY\tDURATION\tMESSAGE")
		for _, a := range entry.Attempts {
			step := "-"
			if a.Step != "" {
				step = fmt.Sprintf("%d %s", a.StepSeq, a.Step)
			}
			fmt.Fprintf(table, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Attempt, formatTime(a.At), a.Worker, step, a.Class,
				a.ClassifiedBy, a.Duration.Round(time.Microsecond), truncate(a.Message, 100))
		}
		if err := table.Flush(); err != nil {
			return err
		}
		for _, a := range entry.Attempts {
			if a.Stack != "" {
				fmt.Fprintf(w, "\nStack of attempt %d\n%s\n", a.Attempt, a.Stack)
			}
		}
	}

	fmt.Fprintf(w, "\nNotifications (%d)\n", len(entry.Deliveries))
	if len(entry.Deliveries) == 0 {
		return nil
	}
	table = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "  CHANNEL\tSTATE\tATTEMPTS\tCREATED\tDELIVERED\tNEXT ATTEMPT\tLAST ERROR")
	for _, d := range entry.Deliveries {
		lastError := "-"
		if d.LastError != "" {
			lastError = truncate(d.LastError, 80)
		}
		fmt.Fprintf(table, "  %s\t%s\t%d\t%s\t%s\t%s\t%s\n", d.Channel, d.State, d.Attempts, formatTime(d.CreatedAt),
			formatTime(d.DeliveredAt), formatTime(d.NextAttemptAt), lastError)
	}
	return table.Flush()
}

package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon/klaxontype"
)

func (m *Main) workersCommand() *cobra.Command {
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "workers",
		Short: "List the workers registry: each worker's language, SDK and workflows, most recently seen first",
		Long: `List the workers that registered workflows, Go workers and workers of other languages over
the worker protocol alike: each worker's ID (the holder of the runs it leases), the language,
SDK version and runtime it registered with, the workflows it hosts, and when it was last heard
from (its registration or its latest heartbeat). A worker not seen for a few heartbeats has
stopped or lost its server; the registry keeps it for the record.`,
		Example: `  klaxon workers
  klaxon workers --json
  klaxon workers --server http://127.0.0.1:7070`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 1000 {
				return &usageError{fmt.Errorf("--limit %d: give 1 to 1000", limit)}
			}
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			workers, err := b.Workers(cmd.Context(), limit)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, orEmpty(workers))
			}
			if len(workers) == 0 {
				fmt.Fprintln(m.Stdout, "no worker has registered")
				return nil
			}
			now := time.Now()
			table := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(table, "ID\tLANGUAGE\tSDK VERSION\tRUNTIME\tWORKFLOWS\tLAST SEEN")
			for _, w := range workers {
				fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\t%s\n", w.ID, orDash(w.Language), orDash(w.SDKVersion),
					orDash(w.Runtime), orDash(strings.Join(w.Workflows, ",")), lastSeen(w, now))
			}
			return table.Flush()
		},
	}
	flags := cmd.Flags()
	flags.IntVar(&limit, "limit", 100, "the most workers to print")
	flags.BoolVar(&asJSON, "json", false, "print as JSON")
	m.addServerFlags(cmd)
	return cmd
}

// lastSeen is when a worker was last heard from, and how long ago.
func lastSeen(w *klaxontype.Worker, now time.Time) string {
	ago := now.Sub(w.LastSeenAt).Round(time.Second)
	if ago < 0 {
		ago = 0
	}
	return fmt.Sprintf("%s (%s ago)", formatTime(w.LastSeenAt), ago)
}

package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

func (m *Main) statsCommand() *cobra.Command {
	var (
		window   string
		step     string
		workflow string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Print runs, dead letters, cost, tokens and retries per time bucket",
		Long: `Print what happened to runs per time bucket: runs enqueued, runs that ended by status,
dead-letter entries created by failure class, and the cost, tokens and retries per run of
the runs that ended. Buckets are aligned to multiples of --step (UTC); the last one holds
now. Runs whose cost includes an unknown model price are shown apart, never as $0.
It reads the database (--db) or, with --server URL (or KLAXON_SERVER), a Klaxon server,
presenting --token (or KLAXON_TOKEN), and prints the same either way.`,
		Example: `  klaxon stats
  klaxon stats --window 7d --step 6h --workflow process-document
  klaxon stats --window 2h --step 10m --json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			query, err := klaxon.ParseStatsQuery(daysToHours(window), daysToHours(step), workflow)
			var queryErr *klaxon.StatsQueryError
			if errors.As(err, &queryErr) {
				return &usageError{fmt.Errorf("--%s: %s", queryErr.Param, queryErr.Problem)}
			}
			if err != nil {
				return err
			}
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			stats, err := b.Stats(cmd.Context(), query)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, stats)
			}
			return printStats(m.Stdout, stats)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&window, "window", "24h", "how far back: a duration such as 24h, 90m or 7d; at most 90d")
	flags.StringVar(&step, "step", "", "width of a bucket such as 1h or 15m, at least 1m, at most 1000 buckets (default window/24 rounded up to a minute)")
	flags.StringVar(&workflow, "workflow", "", "only runs and entries of this workflow")
	flags.BoolVar(&asJSON, "json", false, "print as JSON, in the shape of GET /api/v1/stats")
	m.addServerFlags(cmd)
	return cmd
}

// daysToHours lets --window say days, as --since does elsewhere: 7d is
// 168h. Anything else is left to the duration parser.
func daysToHours(window string) string {
	if days, ok := strings.CutSuffix(window, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err == nil && fmt.Sprint(n) == days {
			return fmt.Sprintf("%dh", n*24)
		}
	}
	return window
}

// printStats prints a series as a table, one row per bucket and a total.
func printStats(w io.Writer, stats *klaxontype.Stats) error {
	of := "every workflow"
	if stats.Workflow != "" {
		of = "workflow " + stats.Workflow
	}
	step := time.Duration(stats.StepSeconds) * time.Second
	fmt.Fprintf(w, "stats of %s: %d buckets of %s from %s UTC\n", of, len(stats.Buckets), shortDuration(step), stats.From.UTC().Format("2006-01-02 15:04"))
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "TIME (UTC)\tENQUEUED\tCOMPLETED\tDEAD\tCANCELLED\tDLQ BY CLASS\tCOST/RUN\tTOKENS/RUN\tRETRIES/RUN")
	total := klaxontype.NewStatsBucket(stats.From)
	for _, bucket := range stats.Buckets {
		printStatsRow(table, bucket.Start.UTC().Format("2006-01-02 15:04"), bucket)
		addStats(total, bucket)
	}
	total.SetRates()
	printStatsRow(table, "total", total)
	if err := table.Flush(); err != nil {
		return err
	}
	if len(stats.Now) > 0 {
		var now []string
		for _, status := range klaxontype.RunStatuses() {
			if n, ok := stats.Now[status]; ok {
				now = append(now, fmt.Sprintf("%d %s", n, status))
			}
		}
		fmt.Fprintf(w, "now: %s\n", strings.Join(now, ", "))
	}
	return nil
}

func printStatsRow(table io.Writer, label string, b *klaxontype.StatsBucket) {
	fmt.Fprintf(table, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", label, b.RunsEnqueued,
		b.RunsByStatus[klaxontype.RunStatusCompleted], b.RunsByStatus[klaxontype.RunStatusDead], b.RunsByStatus[klaxontype.RunStatusCancelled],
		formatClassCounts(b.DLQByClass), formatCostPerRun(b), perRun(b, "%.1f", b.TokensPerRun), perRun(b, "%.2f", b.RetriesPerRun))
}

// addStats adds a bucket's totals to total.
func addStats(total, b *klaxontype.StatsBucket) {
	total.RunsEnqueued += b.RunsEnqueued
	total.RunsFinished += b.RunsFinished
	total.RunsUnknownCost += b.RunsUnknownCost
	total.CostUSD += b.CostUSD
	total.InputTokens += b.InputTokens
	total.OutputTokens += b.OutputTokens
	total.Retries += b.Retries
	for status, n := range b.RunsByStatus {
		total.RunsByStatus[status] += n
	}
	for class, n := range b.DLQByClass {
		total.DLQByClass[class] += n
	}
}

// formatClassCounts prints counts by class compactly, by class name:
// "context_overflow=2 transient=1"; "-" when there are none.
func formatClassCounts(counts map[klaxontype.FailureClass]int) string {
	var parts []string
	for class, n := range counts {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", class, n))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// formatCostPerRun prints the known cost per run, and how many runs had an
// unknown cost beside it: "$0.0123", "$0.0123 (+2 unknown)", "unknown"; "-"
// when no run ended.
func formatCostPerRun(b *klaxontype.StatsBucket) string {
	switch {
	case b.RunsFinished == 0:
		return "-"
	case b.RunsUnknownCost == b.RunsFinished:
		return "unknown"
	case b.RunsUnknownCost > 0:
		return fmt.Sprintf("%s (+%d unknown)", formatDollars(klaxontype.KnownCost(b.CostPerRunUSD)), b.RunsUnknownCost)
	default:
		return formatDollars(klaxontype.KnownCost(b.CostPerRunUSD))
	}
}

// perRun prints a per-run figure, or "-" when no run ended.
func perRun(b *klaxontype.StatsBucket, format string, value float64) string {
	if b.RunsFinished == 0 {
		return "-"
	}
	return fmt.Sprintf(format, value)
}

// shortDuration prints a duration without its zero units: 1h, 10m, 1h30m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

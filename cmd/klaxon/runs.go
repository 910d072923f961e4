package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func (m *Main) runsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List, inspect, cancel and signal runs",
		Long: `List, inspect, cancel and signal runs, in the database (--db) or, with --server URL (or
KLAXON_SERVER), through a Klaxon server, presenting --token (or KLAXON_TOKEN). They print
the same either way.`,
		Args: subcommandsOnly("list, show, cancel, signal"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(m.runsListCommand(), m.runsShowCommand(), m.runsCancelCommand(), m.runsSignalCommand())
	m.addServerFlags(cmd)
	return cmd
}

func (m *Main) runsListCommand() *cobra.Command {
	var (
		statuses []string
		workflow string
		entities []string
		since    string
		until    string
		limit    int
		before   string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List runs, newest first",
		Example: `  klaxon runs list --status dead
  klaxon runs list --workflow process-document --entity document_id=doc-00042 --json
  klaxon runs list --status dead --since 24h`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			params, err := runListParams(statuses, workflow, entities, limit, before)
			if err != nil {
				return err
			}
			if params.CreatedAfter, params.CreatedBefore, err = timeRange(since, until, time.Now()); err != nil {
				return err
			}
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			runs, err := b.Runs(cmd.Context(), params)
			if err != nil {
				return err
			}
			if asJSON {
				if runs == nil {
					runs = []*klaxontype.Run{}
				}
				return writeJSON(m.Stdout, runs)
			}
			if len(runs) == 0 {
				fmt.Fprintln(m.Stdout, "no runs match")
				return nil
			}
			table := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(table, "ID\tWORKFLOW\tSTATUS\tATTEMPT\tCREATED\tENTITIES\tFAILURE")
			for _, run := range runs {
				fmt.Fprintf(table, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", run.ID, run.Workflow, run.Status, run.Attempt,
					run.CreatedAt.Local().Format(time.DateTime), formatEntities(run.Entities), formatFailure(run.Failure))
			}
			if err := table.Flush(); err != nil {
				return err
			}
			if len(runs) == params.Limit {
				fmt.Fprintf(m.Stdout, "(first %d; older runs: --before %s)\n", len(runs), runs[len(runs)-1].ID)
			}
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringSliceVar(&statuses, "status", nil, "only runs in these statuses ("+strings.Join(statusNames(), ", ")+")")
	flags.StringVar(&workflow, "workflow", "", "only runs of this workflow")
	flags.StringArrayVar(&entities, "entity", nil, "only runs labelled key=value (repeatable; all must match)")
	flags.StringVar(&since, "since", "", "only runs enqueued at or after this time (RFC 3339, or a duration ago such as 24h or 7d)")
	flags.StringVar(&until, "until", "", "only runs enqueued before this time (RFC 3339, or a duration ago)")
	flags.IntVar(&limit, "limit", 50, "at most this many runs")
	flags.StringVar(&before, "before", "", "only runs older than this run ID (the next page)")
	flags.BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// runListParams checks the list filters before anything is opened.
func runListParams(statuses []string, workflow string, entities []string, limit int, before string) (*store.RunListParams, error) {
	if limit <= 0 || limit > 10000 {
		return nil, &usageError{fmt.Errorf("--limit must be between 1 and 10000, not %d", limit)}
	}
	params := &store.RunListParams{Workflow: workflow, Limit: limit, BeforeID: before}
	for _, s := range statuses {
		status := klaxontype.RunStatus(strings.TrimSpace(s))
		if !status.Valid() {
			return nil, &usageError{fmt.Errorf("--status %q is not a run status (%s)", s, strings.Join(statusNames(), ", "))}
		}
		params.Statuses = append(params.Statuses, status)
	}
	var err error
	if params.Entities, err = parseEntityFlags(entities); err != nil {
		return nil, err
	}
	return params, nil
}

func statusNames() []string {
	var names []string
	for _, s := range klaxontype.RunStatuses() {
		names = append(names, string(s))
	}
	return names
}

// runDetail is what `klaxon runs show --json` prints.
type runDetail struct {
	Run      *klaxontype.Run          `json:"run"`
	Manifest *manifest                `json:"manifest,omitempty"`
	Steps    []*klaxontype.StepRecord `json:"steps"`
	Attempts []*klaxontype.Attempt    `json:"attempts"`
	Events   []*klaxontype.Event      `json:"events"`
	// Waits are the run's durable waits; Signals the signals sent to it.
	Waits   []*klaxontype.Wait   `json:"waits"`
	Signals []*klaxontype.Signal `json:"signals"`
	// Family is the run's parent and children.
	Family *klaxontype.RunFamily `json:"family,omitempty"`
	// Completion is the record of the run's terminal event, when it has one.
	Completion *klaxontype.CompletionRecord `json:"completion,omitempty"`
}

// manifest compares a run's executed steps with its workflow's expected ones.
type manifest struct {
	Expected []string `json:"expected"`
	Executed []string `json:"executed"`
	Missing  []string `json:"missing"`
}

func (m *Main) runsShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show RUN_ID",
		Short: "Show a run with its step log, attempts and event log",
		Args:  exactArgs(1, "one run ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			detail, err := b.Run(cmd.Context(), args[0])
			if errors.Is(err, klaxontype.ErrNotFound) {
				return fmt.Errorf("run %s not found in %s", args[0], b.Name())
			}
			if err != nil {
				return err
			}
			// Empty lists print as [] whichever backend answered.
			detail.Steps = orEmpty(detail.Steps)
			detail.Attempts = orEmpty(detail.Attempts)
			detail.Events = orEmpty(detail.Events)
			detail.Completion = completionOf(detail.Events)
			if asJSON {
				return writeJSON(m.Stdout, detail)
			}
			return writeRunDetail(m.Stdout, detail)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func runManifest(run *klaxontype.Run, workflows []*klaxontype.WorkflowInfo, steps []*klaxontype.StepRecord) *manifest {
	var expected []string
	for _, w := range workflows {
		if w.Name == run.Workflow {
			expected = w.ExpectedSteps
		}
	}
	if len(expected) == 0 {
		return nil
	}
	m := &manifest{Expected: expected, Executed: []string{}, Missing: []string{}}
	done := make(map[string]bool)
	for _, step := range steps {
		m.Executed = append(m.Executed, step.Name)
		done[step.Name] = true
	}
	for _, name := range expected {
		if !done[name] {
			m.Missing = append(m.Missing, name)
		}
	}
	return m
}

// orEmpty makes a nil list print as [] in JSON rather than null.
func orEmpty[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

func formatEntities(entities map[string]string) string {
	if len(entities) == 0 {
		return "-"
	}
	pairs := make([]string, 0, len(entities))
	for k, v := range entities {
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

func formatFailure(f *klaxontype.RunFailure) string {
	if f == nil {
		return "-"
	}
	where := ""
	if f.Step != "" {
		where = " at " + f.Step
	}
	return string(f.Class) + where
}

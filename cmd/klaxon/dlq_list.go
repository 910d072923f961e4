package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// dlqFilter holds the filter flags that list, replay --all-matching and purge
// share.
type dlqFilter struct {
	classes  []string
	states   []string
	workflow string
	channel  string
	entities []string
	since    string
	until    string
	// snapshot are the entries of the dry run a bulk action confirms.
	snapshot []string
}

// addSnapshotFlag registers --entries, with which a bulk replay or discard
// confirms its dry run: it acts on exactly the entries the dry run listed.
func (f *dlqFilter) addSnapshotFlag(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&f.snapshot, "entries", nil,
		"with --all-matching: act only on these entry IDs, those a --dry-run listed (comma-separated); one closed or no longer matching since is skipped")
}

// addFlags registers the filter flags; withStates is false for replay, which
// only ever replays open entries.
func (f *dlqFilter) addFlags(cmd *cobra.Command, withStates bool) {
	flags := cmd.Flags()
	flags.StringSliceVar(&f.classes, "class", nil, "only entries of these failure classes (repeatable or comma-separated: "+strings.Join(classNames(), ", ")+")")
	if withStates {
		flags.StringSliceVar(&f.states, "state", nil, "only entries in these states (repeatable or comma-separated: "+strings.Join(deadLetterStateNames(), ", ")+"; default all)")
	}
	flags.StringVar(&f.workflow, "workflow", "", "only entries of this workflow")
	flags.StringVar(&f.channel, "channel", "", "only entries routed to this channel")
	flags.StringArrayVar(&f.entities, "entity", nil, "only entries whose run is labelled key=value (repeatable; all must match)")
	flags.StringVar(&f.since, "since", "", "only entries created at or after this time (RFC 3339, or a duration ago such as 24h or 7d)")
	flags.StringVar(&f.until, "until", "", "only entries created before this time (RFC 3339, or a duration ago)")
}

// empty reports whether no filter was given, so that a bulk action would
// match every entry.
func (f *dlqFilter) empty() bool {
	return len(f.classes) == 0 && len(f.states) == 0 && f.workflow == "" && f.channel == "" &&
		len(f.entities) == 0 && f.since == "" && f.until == ""
}

// params checks the filters before anything is opened: a misspelt class or
// state would otherwise silently match nothing, or, for a bulk action, be
// taken for no filter.
func (f *dlqFilter) params(now time.Time) (*klaxon.DeadLetterFilter, error) {
	params := &klaxon.DeadLetterFilter{Workflow: f.workflow, Channel: f.channel}
	for _, c := range f.classes {
		class := klaxontype.FailureClass(strings.TrimSpace(c))
		if !class.Valid() {
			return nil, &usageError{fmt.Errorf("--class %q is not a failure class (%s)", c, strings.Join(classNames(), ", "))}
		}
		params.Classes = append(params.Classes, class)
	}
	for _, s := range f.states {
		state := klaxontype.DeadLetterState(strings.TrimSpace(s))
		if !state.Valid() {
			return nil, &usageError{fmt.Errorf("--state %q is not a dead-letter state (%s)", s, strings.Join(deadLetterStateNames(), ", "))}
		}
		params.States = append(params.States, state)
	}
	var err error
	if params.Entities, err = parseEntityFlags(f.entities); err != nil {
		return nil, err
	}
	if params.CreatedAfter, params.CreatedBefore, err = timeRange(f.since, f.until, now); err != nil {
		return nil, err
	}
	for _, id := range f.snapshot {
		if id = strings.TrimSpace(id); id != "" {
			params.EntryIDs = append(params.EntryIDs, id)
		}
	}
	if f.snapshot != nil && params.EntryIDs == nil {
		params.EntryIDs = []string{}
	}
	return params, nil
}

// timeRange reads --since and --until, and refuses a range that is empty.
func timeRange(since, until string, now time.Time) (after, before time.Time, err error) {
	if after, err = parseWhen("--since", since, now); err != nil {
		return time.Time{}, time.Time{}, err
	}
	if before, err = parseWhen("--until", until, now); err != nil {
		return time.Time{}, time.Time{}, err
	}
	if !after.IsZero() && !before.IsZero() && !after.Before(before) {
		return time.Time{}, time.Time{}, &usageError{fmt.Errorf("--since %s is not before --until %s", since, until)}
	}
	return after, before, nil
}

// parseWhen reads a time flag: an RFC 3339 time, or a duration before now
// (Go's units, plus d for days).
func parseWhen(flag, value string, now time.Time) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, value); err == nil {
		return t, nil
	}
	ago, err := time.ParseDuration(value)
	if days, ok := strings.CutSuffix(value, "d"); ok && err != nil {
		n, dayErr := strconv.ParseFloat(days, 64)
		if dayErr == nil {
			ago, err = time.Duration(n*24*float64(time.Hour)), nil
		}
	}
	if err != nil || ago < 0 {
		return time.Time{}, &usageError{fmt.Errorf("%s %q is neither an RFC 3339 time (2006-01-02T15:04:05Z) nor a duration ago (24h, 7d)", flag, value)}
	}
	return now.Add(-ago), nil
}

func classNames() []string {
	var names []string
	for _, c := range klaxontype.FailureClasses() {
		names = append(names, string(c))
	}
	return names
}

func deadLetterStateNames() []string {
	var names []string
	for _, s := range klaxontype.DeadLetterStates() {
		names = append(names, string(s))
	}
	return names
}

func (m *Main) dlqListCommand() *cobra.Command {
	var (
		filter dlqFilter
		limit  int
		before string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List dead-letter entries, newest first",
		Example: `  klaxon dlq list --state open
  klaxon dlq list --class permanent,policy_violation --since 24h
  klaxon dlq list --workflow process-document --entity document_id=doc-00042 --json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit <= 0 || limit > 10000 {
				return &usageError{fmt.Errorf("--limit must be between 1 and 10000, not %d", limit)}
			}
			params, err := filter.params(time.Now())
			if err != nil {
				return err
			}
			params.Limit, params.BeforeID = limit, before
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			entries, err := b.DeadLetters(cmd.Context(), params)
			if err != nil {
				return err
			}
			if asJSON {
				if entries == nil {
					entries = []*klaxontype.DeadLetter{}
				}
				return writeJSON(m.Stdout, entries)
			}
			if len(entries) == 0 {
				fmt.Fprintln(m.Stdout, "no dead-letter entries match")
				return nil
			}
			table := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(table, "ID\tRUN\tWORKFLOW\tCLASS\tSTEP\tCHANNEL\tSTATE\tCREATED\tREASON")
			for _, entry := range entries {
				fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", entry.ID, entry.RunID, entry.Workflow, entry.Class,
					formatFailedStep(entry.Step), entry.Channel, entry.State, entry.CreatedAt.Local().Format(time.DateTime),
					truncate(entry.Reason, 60))
			}
			if err := table.Flush(); err != nil {
				return err
			}
			if len(entries) == limit {
				fmt.Fprintf(m.Stdout, "(first %d; older entries: --before %s)\n", len(entries), entries[len(entries)-1].ID)
			}
			return nil
		},
	}
	filter.addFlags(cmd, true)
	flags := cmd.Flags()
	flags.IntVar(&limit, "limit", 50, "at most this many entries")
	flags.StringVar(&before, "before", "", "only entries older than this entry ID (the next page)")
	flags.BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func formatFailedStep(step *klaxontype.FailedStep) string {
	if step == nil {
		return "-"
	}
	return fmt.Sprintf("%d %s", step.Seq, step.Name)
}

// truncate keeps a reason on one line of at most n characters.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	if runes := []rune(s); len(runes) > n {
		return string(runes[:n-1]) + "…"
	}
	return s
}

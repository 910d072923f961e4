package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
)

// bulkDiscardResult is what `klaxon dlq discard --all-matching --json` prints.
type bulkDiscardResult struct {
	DryRun bool   `json:"dry_run"`
	Reason string `json:"reason"`
	*klaxon.BulkDiscardResult
}

func (m *Main) dlqDiscardCommand() *cobra.Command {
	var (
		filter      dlqFilter
		allMatching bool
		reason      string
		dryRun      bool
		actor       string
		asJSON      bool
	)
	cmd := &cobra.Command{
		Use:   "discard (ID | --all-matching [filters]) --reason TEXT",
		Short: "Close an entry, or every open entry matching filters, without acting on it; the runs stay dead",
		Long: `Close an open dead-letter entry without replaying or resolving it, for a failure that
needs no action. The run stays dead; the entry stays in the queue, discarded, with your
name and reason in it and in the run's event log.

Bulk discard takes the filters of "klaxon dlq list" and discards only open entries, each
with the same reason. It always needs --all-matching, so that a mistyped command cannot
close the whole queue; --dry-run lists what would be discarded and changes nothing.`,
		Example: `  klaxon dlq discard 01JB7Q... --reason "duplicate upload; the customer resent it"
  klaxon dlq discard --all-matching --entity batch=2026-11-26 --dry-run --reason "bad import"
  klaxon dlq discard --all-matching --entity batch=2026-11-26 --reason "bad import, re-run by hand"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return &usageError{fmt.Errorf("%s takes one entry ID or --all-matching, got %d arguments", cmd.CommandPath(), len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			reason = strings.TrimSpace(reason)
			if reason == "" {
				return &usageError{fmt.Errorf("--reason is required: say why the entry needs no action")}
			}
			switch {
			case len(args) == 1 && allMatching:
				return &usageError{fmt.Errorf("give an entry ID or --all-matching, not both")}
			case len(args) == 1 && !filter.empty():
				return &usageError{fmt.Errorf("the filters select entries for --all-matching; to discard entry %s, leave them out", args[0])}
			case len(args) == 1 && dryRun:
				return &usageError{fmt.Errorf("--dry-run is for --all-matching; klaxon dlq show %s shows the one entry", args[0])}
			case len(args) == 0 && !allMatching && !filter.empty():
				return &usageError{fmt.Errorf("to discard every open entry matching these filters, add --all-matching (try --dry-run first)")}
			case len(args) == 0 && !allMatching:
				return &usageError{fmt.Errorf("give the ID of the entry to discard, or --all-matching with filters to discard many")}
			}
			actorName, err := m.actor(cmd, actor)
			if err != nil {
				return err
			}
			if allMatching {
				return m.discardMatching(cmd, &filter, reason, actorName, dryRun, asJSON)
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
	filter.addFlags(cmd, false)
	filter.addSnapshotFlag(cmd)
	flags := cmd.Flags()
	flags.BoolVar(&allMatching, "all-matching", false, "discard every open entry matching the filters (all of them when no filter is given)")
	flags.StringVar(&reason, "reason", "", "why the entries need no action (required)")
	flags.BoolVar(&dryRun, "dry-run", false, "with --all-matching: print what would be discarded and change nothing")
	flags.StringVar(&actor, "actor", "", "who discards, for the event log (default: your user name); a server records its token's name instead")
	flags.BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// discardMatching discards, or with dryRun lists, every open entry the filter
// matches.
func (m *Main) discardMatching(cmd *cobra.Command, filter *dlqFilter, reason, actor string, dryRun, asJSON bool) error {
	params, err := filter.params(time.Now())
	if err != nil {
		return err
	}
	b, err := m.openBackend(cmd)
	if err != nil {
		return err
	}
	defer b.Close()
	result, err := b.DiscardMatching(cmd.Context(), params, reason, actor, dryRun)
	if result == nil {
		return err
	}
	// An interrupted bulk discard still says how far it got before it failed.
	interrupted := err
	switch {
	case asJSON:
		if err := writeJSON(m.Stdout, &bulkDiscardResult{DryRun: dryRun, Reason: reason, BulkDiscardResult: result}); err != nil {
			return err
		}
	case dryRun:
		fmt.Fprintf(m.Stdout, "dry run: %d open dead-letter entries match; discarding them would close them with your reason, their runs staying dead:\n", result.Matched)
		for _, id := range result.EntryIDs {
			fmt.Fprintf(m.Stdout, "  %s\n", id)
		}
		fmt.Fprintln(m.Stdout, "nothing was changed")
	default:
		fmt.Fprintf(m.Stdout, "discarded %d of %d matching open dead-letter entries", result.Discarded, result.Matched)
		if result.Skipped > 0 {
			fmt.Fprintf(m.Stdout, "; %d skipped: closed by someone else meanwhile", result.Skipped)
		}
		fmt.Fprintln(m.Stdout)
	}
	refused := make([]string, 0, len(result.Failed))
	for id := range result.Failed {
		refused = append(refused, id)
	}
	sort.Strings(refused)
	for _, id := range refused {
		fmt.Fprintf(m.Stderr, "  %s: %s\n", id, result.Failed[id])
	}
	switch {
	case interrupted != nil:
		return fmt.Errorf("bulk discard stopped after %d of %d entries: %w", result.Discarded+result.Skipped+len(result.Failed), result.Matched, interrupted)
	case len(refused) > 0:
		return fmt.Errorf("%d of %d matching entries were not discarded (reasons above); they stay open", len(refused), result.Matched)
	}
	return nil
}

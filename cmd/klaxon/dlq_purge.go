package main

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/spf13/cobra"
)

// purgeResult is what `klaxon dlq purge --json` prints.
type purgeResult struct {
	// DryRun is true without --yes: Matched entries would be purged.
	DryRun  bool `json:"dry_run"`
	Matched int  `json:"matched"`
	Purged  int  `json:"purged"`
}

func (m *Main) dlqPurgeCommand() *cobra.Command {
	var (
		filter dlqFilter
		all    bool
		yes    bool
		actor  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "purge (filters | --all) [--yes]",
		Short: "Delete dead-letter entries matching filters, recording who purged which",
		Long: `Delete the dead-letter entries matching the filters of "klaxon dlq list", with their
notifications. Purging is the only way an entry is ever deleted, and the store records who
purged which entries with which filter.

Without --yes the command only counts what it would purge and changes nothing. It needs at
least one filter, or --all to purge the whole queue.`,
		Example: `  klaxon dlq purge --state discarded,resolved --until 720h
  klaxon dlq purge --state discarded --until 720h --yes`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case all && !filter.empty():
				return &usageError{fmt.Errorf("--all purges every entry; leave out the filters, or leave out --all")}
			case !all && filter.empty():
				return &usageError{fmt.Errorf("give at least one filter (--state, --class, --until …), or --all to purge every entry")}
			}
			params, err := filter.params(time.Now())
			if err != nil {
				return err
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
			result := &purgeResult{DryRun: !yes}
			if result.Matched, err = countDeadLetters(ctx, b, params); err != nil {
				return err
			}
			if yes && result.Matched > 0 {
				if result.Purged, err = b.PurgeDeadLetters(ctx, params, actorName); err != nil {
					return err
				}
			}
			if asJSON {
				return writeJSON(m.Stdout, result)
			}
			if !yes {
				fmt.Fprintf(m.Stdout, "%d dead-letter entries match; nothing was purged: add --yes to purge them\n", result.Matched)
				return nil
			}
			fmt.Fprintf(m.Stdout, "purged %d dead-letter entries\n", result.Purged)
			return nil
		},
	}
	filter.addFlags(cmd, true)
	flags := cmd.Flags()
	flags.BoolVar(&all, "all", false, "purge every entry (instead of filters)")
	flags.BoolVar(&yes, "yes", false, "purge; without it, only count what would be purged")
	flags.StringVar(&actor, "actor", "", "who purges, for the purge record (default: your user name); a server records its token's name instead")
	flags.BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// countDeadLetters counts the entries a filter matches, a page at a time.
func countDeadLetters(ctx context.Context, b backend, filter *klaxon.DeadLetterFilter) (int, error) {
	page := *filter
	page.BeforeID, page.Limit = "", 1000
	count := 0
	for {
		entries, err := b.DeadLetters(ctx, &page)
		if err != nil {
			return 0, err
		}
		count += len(entries)
		if len(entries) < page.Limit {
			return count, nil
		}
		page.BeforeID = entries[len(entries)-1].ID
	}
}

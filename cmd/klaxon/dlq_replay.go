package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// replayPlanResult is what `klaxon dlq replay ID --dry-run --json` prints.
type replayPlanResult struct {
	DryRun bool `json:"dry_run"`
	*klaxon.ReplayPlan
	// EditedInput is true when --input would replace the run's input.
	EditedInput bool `json:"edited_input"`
}

// bulkReplayResult is what `klaxon dlq replay --all-matching --json` prints.
type bulkReplayResult struct {
	DryRun bool                  `json:"dry_run"`
	Mode   klaxontype.ReplayMode `json:"mode"`
	*klaxon.BulkReplayResult
}

func replayModeNames() []string {
	var names []string
	for _, mode := range klaxontype.ReplayModes() {
		names = append(names, string(mode))
	}
	return names
}

func (m *Main) dlqReplayCommand() *cobra.Command {
	var (
		filter       dlqFilter
		allMatching  bool
		mode         string
		step         string
		inputPath    string
		budgetTokens int64
		budgetUSD    float64
		dryRun       bool
		actor        string
		asJSON       bool
	)
	cmd := &cobra.Command{
		Use:   "replay (ID | --all-matching [filters])",
		Short: "Replay one dead-letter entry, or every open entry matching filters",
		Long: `Replay a dead run from its dead-letter entry, in one of three modes:

  resume     keep every completed step and retry from the failed one, with the same
             idempotency keys (the default)
  from-step  discard --step and every later step and run them again, under new
             idempotency keys
  restart    a new run of the workflow from scratch, linked to the dead one

--input FILE replaces the run's input with a JSON document ("-" reads standard input).
--dry-run says what the replay would do and changes nothing: for one entry, which steps
are kept and which run again; for --all-matching, which entries would be replayed.

Bulk replay takes the filters of "klaxon dlq list" and replays only open entries. It
always needs --all-matching, so that a mistyped command cannot replay the whole queue.

The replayed runs become pending; the workers that have their workflow registered pick
them up. This command starts no worker.`,
		Example: `  klaxon dlq replay 01JB7Q... --dry-run
  klaxon dlq replay 01JB7Q... --mode from-step --step classify --input fixed.json
  klaxon dlq replay --all-matching --class timeout --since 2h --dry-run
  klaxon dlq replay --all-matching --workflow process-document --class permanent`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return &usageError{fmt.Errorf("%s takes one entry ID or --all-matching, got %d arguments", cmd.CommandPath(), len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			options := klaxon.ReplayOptions{Mode: klaxontype.ReplayMode(mode), Step: step}
			switch {
			case budgetTokens < 0 || budgetUSD < 0:
				return &usageError{fmt.Errorf("--budget-tokens and --budget-usd take a positive number")}
			case budgetTokens > 0 || budgetUSD > 0:
				options.Budget = &klaxontype.Budget{Tokens: budgetTokens, CostUSD: budgetUSD}
			}
			if !options.Mode.Valid() {
				return &usageError{fmt.Errorf("--mode %q is not a replay mode (%s)", mode, strings.Join(replayModeNames(), ", "))}
			}
			switch {
			case options.Mode == klaxontype.ReplayFromStep && step == "":
				return &usageError{fmt.Errorf("--mode from-step needs --step NAME: the first step to run again")}
			case options.Mode != klaxontype.ReplayFromStep && step != "":
				return &usageError{fmt.Errorf("--step is for --mode from-step, not %s", options.Mode)}
			}
			switch {
			case len(args) == 1 && allMatching:
				return &usageError{fmt.Errorf("give an entry ID or --all-matching, not both")}
			case len(args) == 1 && !filter.empty():
				return &usageError{fmt.Errorf("the filters select entries for --all-matching; to replay entry %s, leave them out", args[0])}
			case len(args) == 0 && !allMatching && !filter.empty():
				return &usageError{fmt.Errorf("to replay every open entry matching these filters, add --all-matching (try --dry-run first)")}
			case len(args) == 0 && !allMatching:
				return &usageError{fmt.Errorf("give the ID of the entry to replay, or --all-matching with filters to replay many")}
			case allMatching && inputPath != "":
				return &usageError{fmt.Errorf("--input replaces one run's input; it cannot be given to every entry of --all-matching")}
			}
			if inputPath != "" {
				input, err := readJSONFile(cmd, "input", inputPath)
				if err != nil {
					return err
				}
				options.Input = input
			}
			var err error
			if options.Actor, err = m.actor(cmd, actor); err != nil {
				return err
			}
			if allMatching {
				return m.replayMatching(cmd, &filter, options, dryRun, asJSON)
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
			if dryRun {
				plan, err := b.PlanReplay(ctx, entry.ID, options)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(m.Stdout, &replayPlanResult{DryRun: true, ReplayPlan: plan, EditedInput: options.Input != nil})
				}
				writeReplayPlan(m.Stdout, entry, plan, options.Input != nil)
				return nil
			}
			replayed, err := b.Replay(ctx, entry.ID, options)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, replayed)
			}
			fmt.Fprintf(m.Stdout, "dead-letter entry %s: %s (%s) by %s\n", replayed.ID, replayed.State, replayed.ReplayMode, replayed.ClosedBy)
			if replayed.ReplayRunID != "" && replayed.ReplayRunID != replayed.RunID {
				fmt.Fprintf(m.Stdout, "  new run %s (restart of run %s) is pending for a worker of %s\n", replayed.ReplayRunID, replayed.RunID, replayed.Workflow)
			} else {
				fmt.Fprintf(m.Stdout, "  run %s is pending again for a worker of %s\n", replayed.RunID, replayed.Workflow)
			}
			return nil
		},
	}
	filter.addFlags(cmd, false)
	filter.addSnapshotFlag(cmd)
	flags := cmd.Flags()
	flags.BoolVar(&allMatching, "all-matching", false, "replay every open entry matching the filters (all of them when no filter is given)")
	flags.StringVar(&mode, "mode", string(klaxontype.ReplayResume), "how to replay: "+strings.Join(replayModeNames(), ", "))
	flags.StringVar(&step, "step", "", "with --mode from-step: the first step to run again")
	flags.StringVar(&inputPath, "input", "", "replace the run's input with this JSON file (- for standard input)")
	flags.Int64Var(&budgetTokens, "budget-tokens", 0, "give the run a new token budget (a run that died budget_exceeded gets more)")
	flags.Float64Var(&budgetUSD, "budget-usd", 0, "give the run a new cost budget in USD")
	flags.BoolVar(&dryRun, "dry-run", false, "print what would be replayed and change nothing")
	flags.StringVar(&actor, "actor", "", "who replays, for the event log (default: your user name); a server records its token's name instead")
	flags.BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// replayMatching replays, or with dryRun lists, every open entry the filter
// matches.
func (m *Main) replayMatching(cmd *cobra.Command, filter *dlqFilter, options klaxon.ReplayOptions, dryRun, asJSON bool) error {
	params, err := filter.params(time.Now())
	if err != nil {
		return err
	}
	b, err := m.openBackend(cmd)
	if err != nil {
		return err
	}
	defer b.Close()
	result, err := b.ReplayMatching(cmd.Context(), params, options, dryRun)
	if result == nil {
		return err
	}
	// An interrupted bulk replay still says how far it got before it failed.
	interrupted := err
	if asJSON {
		if err := writeJSON(m.Stdout, &bulkReplayResult{DryRun: dryRun, Mode: options.Mode, BulkReplayResult: result}); err != nil {
			return err
		}
	} else if dryRun {
		fmt.Fprintf(m.Stdout, "dry run: %d open dead-letter entries match; replaying them (%s) would make their runs pending again:\n", result.Matched, options.Mode)
		for _, id := range result.EntryIDs {
			fmt.Fprintf(m.Stdout, "  %s\n", id)
		}
		fmt.Fprintln(m.Stdout, "nothing was changed")
	} else {
		// Not "by whom": through a server that is the token's name, which only
		// the server knows; the event log of every run records it.
		fmt.Fprintf(m.Stdout, "replayed %d of %d matching open dead-letter entries (%s)", result.Replayed, result.Matched, options.Mode)
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
		return fmt.Errorf("bulk replay stopped after %d of %d entries: %w", result.Replayed+result.Skipped+len(result.Failed), result.Matched, interrupted)
	case len(refused) > 0:
		return fmt.Errorf("%d of %d matching entries were not replayed (reasons above); they stay open", len(refused), result.Matched)
	}
	return nil
}

// writeReplayPlan says what replaying one entry would do.
func writeReplayPlan(w io.Writer, entry *klaxontype.DeadLetter, plan *klaxon.ReplayPlan, editedInput bool) {
	fmt.Fprintf(w, "dry run: replaying dead-letter entry %s (run %s of %s, %s at %s) with %s would\n",
		entry.ID, entry.RunID, entry.Workflow, entry.Class, formatFailedStep(entry.Step), plan.Mode)
	if plan.Mode == klaxontype.ReplayRestart {
		fmt.Fprintf(w, "  create a new run of %s from scratch, linked to run %s\n", entry.Workflow, entry.RunID)
	}
	fmt.Fprintf(w, "  keep (taken from the step log, not run again): %s\n", listOrNone(plan.KeptSteps))
	fmt.Fprintf(w, "  run again:                                     %s\n", listOrNone(plan.RerunSteps))
	fmt.Fprintln(w, "  and then run the workflow's later steps that never ran")
	if plan.NewIdempotencyKeys {
		fmt.Fprintln(w, "  idempotency keys: NEW for the steps that run again; external APIs will see their calls as new ones")
	} else {
		fmt.Fprintln(w, "  idempotency keys: kept; external APIs see the failed step's call again under the same key")
	}
	if editedInput {
		fmt.Fprintln(w, "  input: replaced by --input")
	}
	fmt.Fprintln(w, "nothing was changed")
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

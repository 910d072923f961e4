package main

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

func (m *Main) retentionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "retention",
		Short: "Delete old ended runs, in bounded batches, recorded in the audit log",
		Args:  subcommandsOnly("apply, check"),
	}
	cmd.AddCommand(m.retentionApplyCommand(), m.retentionCheckCommand())
	return cmd
}

func (m *Main) retentionCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a retention file (klaxon server --retention) and print its rules",
		Long: `Parse and check a retention file as klaxon server --retention does: unknown fields, a
missing or malformed older_than, a status that is not completed, dead or cancelled, a batch
out of bounds, an interval under a second, an export file in a folder that does not exist.
A mistake is printed with its rule, line and field, and the exit code is 1; otherwise each
rule is printed as the server would apply it. docs/retention.md describes the format.`,
		Example: `  klaxon retention check /etc/klaxon/retention.yml`,
		Args:    exactArgs(1, "one retention file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := loadRetentionFile(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "%s: %d rules, applied every %s by klaxon server --retention, recorded as actor %q:\n",
				args[0], len(file.Rules), formatAge(file.Interval), retentionActor)
			for i, rule := range file.Rules {
				fmt.Fprintf(m.Stdout, "  rule %d: %s\n", i+1, rule)
			}
			return nil
		},
	}
}

func (m *Main) retentionApplyCommand() *cobra.Command {
	var olderThan, exportPath, actor string
	var workflows, statuses []string
	var batch int
	var dryRun, asJSON bool
	cmd := &cobra.Command{
		Use:   "apply --older-than AGE",
		Short: "Delete (or with --export, archive then delete) ended runs older than an age",
		Long: `Delete the runs that ended (completed, dead or cancelled) more than AGE ago, with their
steps, archived steps, events, attempts, closed dead-letter entries and notifications, a
batch per transaction. A run with an open dead-letter entry, and a run that has not ended,
is never deleted. Each batch is recorded in the audit log with the rule applied; a run
stopped half-way and applied again finishes the job. With --export, each batch is first
written to FILE as JSON Lines (one run with its history per line), appended.`,
		Example: `  klaxon retention apply --older-than 30d --dry-run
  klaxon retention apply --older-than 90d --status completed --export archive.jsonl`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if olderThan == "" {
				return &usageError{fmt.Errorf("--older-than is required: the age past which ended runs are deleted, such as 30d or 720h")}
			}
			age, err := parseAge(olderThan)
			if err != nil {
				return &usageError{fmt.Errorf("--older-than %q: %v", olderThan, err)}
			}
			policy := &klaxon.RetentionPolicy{OlderThan: age, Workflows: workflows, Batch: batch, DryRun: dryRun}
			for _, status := range statuses {
				s := klaxontype.RunStatus(status)
				if !s.Terminal() {
					return &usageError{fmt.Errorf("--status %q: give completed, dead or cancelled", status)}
				}
				policy.Statuses = append(policy.Statuses, s)
			}
			if policy.Actor, err = m.actor(cmd, actor); err != nil {
				return err
			}
			// The database must exist with this binary's schema: retention
			// deletes, and a typo in --db must not create an empty database.
			st, err := openStore(cmd.Context(), m.dbURL, openToRead)
			if err != nil {
				return err
			}
			defer st.Close()
			client, err := klaxon.NewClient(st, nil)
			if err != nil {
				return err
			}
			var export *os.File
			if exportPath != "" && !dryRun {
				if export, err = os.OpenFile(exportPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err != nil {
					return fmt.Errorf("open the export file: %w", err)
				}
				defer export.Close()
			}
			var progress func(string, int)
			if !asJSON {
				progress = func(workflow string, deleted int) {
					fmt.Fprintf(m.Stderr, "  %s: %d runs deleted so far\n", workflow, deleted)
				}
			}
			var result *klaxon.RetentionResult
			if export != nil {
				result, err = client.ApplyRetention(cmd.Context(), policy, export, progress)
				if syncErr := export.Sync(); err == nil && syncErr != nil {
					err = fmt.Errorf("export file: %w", syncErr)
				}
			} else {
				result, err = client.ApplyRetention(cmd.Context(), policy, nil, progress)
			}
			if err != nil {
				if result != nil && result.Deleted > 0 {
					fmt.Fprintf(m.Stderr, "stopped after deleting %d runs; apply again to finish\n", result.Deleted)
				}
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, result)
			}
			verb := "deleted"
			if dryRun {
				verb = "would delete"
			}
			atLeast := ""
			if result.Capped {
				atLeast = "at least "
			}
			fmt.Fprintf(m.Stdout, "%s %s%d ended runs older than %s\n", verb, atLeast, result.Deleted, olderThan)
			for _, workflow := range slices.Sorted(maps.Keys(result.ByWorkflow)) {
				if n := result.ByWorkflow[workflow]; n > 0 {
					fmt.Fprintf(m.Stdout, "  %-24s %d\n", workflow, n)
				}
			}
			if result.Exported > 0 {
				fmt.Fprintf(m.Stdout, "exported %d runs to %s first\n", result.Exported, exportPath)
			}
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&olderThan, "older-than", "", "delete runs that ended more than this long ago: a duration such as 720h, or days such as 30d (required)")
	flags.StringSliceVar(&workflows, "workflow", nil, "only runs of these workflows (repeatable; default every registered workflow)")
	flags.StringSliceVar(&statuses, "status", nil, "only runs that ended so: completed, dead, cancelled (repeatable; default all three)")
	flags.StringVar(&exportPath, "export", "", "append each batch to this JSON Lines file before deleting it")
	flags.IntVar(&batch, "batch", klaxon.DefaultRetentionBatch, "runs per transaction")
	flags.BoolVar(&dryRun, "dry-run", false, "count what would be deleted and delete nothing")
	flags.StringVar(&actor, "actor", "", "who applies retention, for the audit log (default: your user name)")
	flags.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// parseAge reads an age as a Go duration or a whole number of days ("30d").
func parseAge(text string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(text, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != days {
			return 0, fmt.Errorf("not a whole number of days")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	age, err := time.ParseDuration(text)
	if err != nil || age <= 0 {
		return 0, fmt.Errorf("not a positive duration such as 720h or 30d")
	}
	return age, nil
}

package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

func (m *Main) approvalsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "approvals",
		Short: "List, approve and reject the approval requests runs wait on",
		Long: `The approvals inbox: requests of runs waiting in AwaitApproval for a person's
decision, oldest first. Approving or rejecting one records your name (a server records its
token's name, which must be of the operate or admin scope), your comment and the time, in
the run's event log and the audit log, and the run goes on at once.`,
		Args: subcommandsOnly("list, approve, reject"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(m.approvalsListCommand(), m.approvalsDecideCommand(true), m.approvalsDecideCommand(false))
	m.addServerFlags(cmd)
	return cmd
}

func (m *Main) approvalsListCommand() *cobra.Command {
	var (
		limit  int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the requests waiting for a decision, oldest first",
		Example: `  klaxon approvals list --json`,
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 1000 {
				return &usageError{fmt.Errorf("--limit %d is out of range: 1 to 1000", limit)}
			}
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			approvals, err := b.Approvals(cmd.Context(), limit)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, approvals)
			}
			if len(approvals) == 0 {
				fmt.Fprintf(m.Stdout, "no approval request waits for a decision in %s\n", b.Name())
				return nil
			}
			now := time.Now()
			w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "RUN\tNAME\tWORKFLOW\tTITLE\tWAITING\tDUE IN\tAPPROVERS")
			for _, a := range approvals {
				title, approvers := "", "any operator"
				if a.Request != nil {
					title = a.Request.Title
					if len(a.Request.Approvers) > 0 {
						approvers = strings.Join(a.Request.Approvers, ",")
					}
				}
				due := klaxontype.ShortDuration(a.Deadline.Sub(now))
				if !a.Deadline.After(now) {
					due = "overdue"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.RunID, a.Name, a.Workflow, title,
					klaxontype.ShortDuration(now.Sub(a.StartedAt)), due, approvers)
			}
			return w.Flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many requests (1 to 1000)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the requests as JSON")
	return cmd
}

func (m *Main) approvalsDecideCommand(approve bool) *cobra.Command {
	verb := "reject"
	if approve {
		verb = "approve"
	}
	var (
		comment string
		data    string
		actor   string
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:     verb + " RUN_ID NAME",
		Short:   strings.ToUpper(verb[:1]) + verb[1:] + " a run's approval request",
		Example: fmt.Sprintf(`  klaxon approvals %s 01JB7Q... refund --comment "checked the order"`, verb),
		Args:    exactArgs(2, "a run ID and the request's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(comment) == "" {
				return &usageError{errors.New("--comment is required: say why, for the run and the audit log")}
			}
			decision := klaxon.Decision{Approved: approve, Comment: strings.TrimSpace(comment)}
			if data != "" {
				edited, err := readJSONFile(cmd, "data", data)
				if err != nil {
					return err
				}
				decision.Data = edited
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
			decided, err := b.DecideApproval(cmd.Context(), args[0], args[1], decision, actorName)
			if err != nil {
				return fmt.Errorf("%w; nothing was decided", err)
			}
			if asJSON {
				return writeJSON(m.Stdout, decided)
			}
			fmt.Fprintf(m.Stdout, "run %s: approval %q %s by %s; the run goes on\n", args[0], args[1], decided.Decision(), decided.By)
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&comment, "comment", "", "why (required)")
	flags.StringVar(&data, "data", "", "JSON file with the request's data as you edited it, or - for standard input")
	flags.StringVar(&actor, "actor", "", "who decides (default: your user name); a server records its token's name instead")
	flags.BoolVar(&asJSON, "json", false, "print the decision as JSON")
	return cmd
}

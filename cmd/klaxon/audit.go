package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

func (m *Main) auditCommand() *cobra.Command {
	var since, actor, action string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "List the operator actions in the audit log, newest first",
		Long: `List the audit log: every replay, resolve, discard, purge, cancel, breaker reset,
outbox give-up, retention batch, signal sent, approval decided, schedule created, paused,
resumed or deleted, and enqueue through the API or this command (run.enqueue),
with who did it, when, on what, with which parameters and to what effect. Each action is
recorded in the transaction that carried it out, so a refused action leaves no record.
Every request to an admin endpoint of a server is recorded too (admin.request: the token's
name, the method and path, the HTTP status), whatever came of it. Nothing in Klaxon deletes
records. Through a server it needs an admin token.`,
		Example: `  klaxon audit
  klaxon audit --since 24h --actor alice
  klaxon audit --action dlq.purge --json
  klaxon audit --action admin.request --actor ci-bot`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter := &klaxon.AuditFilter{Actor: actor, Action: klaxontype.AuditAction(action), Limit: limit}
			if action != "" && !filter.Action.Valid() {
				return &usageError{fmt.Errorf("--action %q is not an audited action (%s)", action, strings.Join(auditActionNames(), ", "))}
			}
			if limit < 1 || limit > 10000 {
				return &usageError{fmt.Errorf("--limit %d: give 1 to 10000", limit)}
			}
			var err error
			if filter.Since, err = parseWhen("--since", since, time.Now()); err != nil {
				return err
			}
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			records, err := b.Audit(cmd.Context(), filter)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, orEmpty(records))
			}
			if len(records) == 0 {
				fmt.Fprintln(m.Stdout, "no operator actions recorded (that match)")
				return nil
			}
			table := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(table, "AT\tACTOR\tACTION\tTARGET\tRESULT")
			for _, r := range records {
				fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\n", formatTime(r.At), r.Actor, r.Action, r.Target, r.Result)
			}
			return table.Flush()
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&since, "since", "", "only actions at or after this time (RFC 3339, or a duration ago such as 24h or 7d)")
	flags.StringVar(&actor, "actor", "", "only actions of this actor (a token's name, or a user)")
	flags.StringVar(&action, "action", "", "only actions of this kind ("+strings.Join(auditActionNames(), ", ")+")")
	flags.IntVar(&limit, "limit", 100, "the most records to print")
	flags.BoolVar(&asJSON, "json", false, "print as JSON")
	m.addServerFlags(cmd)
	return cmd
}

func auditActionNames() []string {
	names := make([]string, 0, len(klaxontype.AuditActions()))
	for _, action := range klaxontype.AuditActions() {
		names = append(names, string(action))
	}
	return names
}

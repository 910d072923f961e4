package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon/alert"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
)

func (m *Main) alertsCommand() *cobra.Command {
	var state string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List the alerts klaxon server's rules raised; check a rules file",
		Long: `List alerts, newest first: by default the firing ones and those resolved in the last
24 hours. Each is one firing episode of an alert rule for a workflow (and failure class),
evaluated by klaxon server (see docs/alerts.md).`,
		Example: `  klaxon alerts
  klaxon alerts --state firing --json
  klaxon alerts check rules.yml`,
		Args: subcommandsOnly("check"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter := klaxonhttp.AlertStateFilter(state)
			switch filter {
			case klaxonhttp.AlertsFiring, klaxonhttp.AlertsResolved, klaxonhttp.AlertsAll:
			default:
				return &usageError{fmt.Errorf("--state %q: give firing, resolved or all", state)}
			}
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			alerts, err := b.Alerts(cmd.Context(), filter)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, orEmpty(alerts))
			}
			if len(alerts) == 0 {
				fmt.Fprintf(m.Stdout, "no alerts (%s)\n", describeAlertFilter(filter))
				return nil
			}
			table := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(table, "STATE\tSEVERITY\tRULE\tWORKFLOW\tCLASS\tSTARTED\tRESOLVED\tNOTIFIED\tSUMMARY")
			for _, a := range alerts {
				resolved := "-"
				if a.ResolvedAt != nil {
					resolved = formatTime(*a.ResolvedAt)
				}
				stateText := strings.ToUpper(string(a.State))
				if a.State == klaxontype.AlertResolved {
					stateText = string(a.State)
				}
				fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", stateText, a.Severity, a.Rule, orDash(a.Workflow),
					orDash(string(a.Class)), formatTime(a.StartedAt), resolved, a.Notifications, a.Summary)
			}
			return table.Flush()
		},
	}
	cmd.Flags().StringVar(&state, "state", string(klaxonhttp.AlertsAll), "firing, resolved (in the last 24h), or all (firing, and resolved in the last 24h)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.AddCommand(m.alertsCheckCommand())
	m.addServerFlags(cmd)
	return cmd
}

func (m *Main) alertsCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE",
		Short: "Validate an alert rules file and print the rules it puts in effect",
		Args:  exactArgs(1, "one rules file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			config, err := alert.LoadFile(args[0], m.Getenv)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "%s: %d rules, %d targets\n", args[0], len(config.Rules), len(config.Targets))
			printAlertConfig(m, config)
			return nil
		},
	}
}

// printAlertConfig prints the rules and targets in effect, one a line.
func printAlertConfig(m *Main, config *alert.Config) {
	for _, r := range config.Rules {
		fmt.Fprintf(m.Stdout, "  rule %s\n", r)
	}
	for _, t := range config.Targets {
		signed := ""
		if len(t.Secret) > 0 {
			signed = ", signed"
		}
		fmt.Fprintf(m.Stdout, "  target %s: %s to %s%s\n", t.Name, t.Format, redactURL(t.URL), signed)
	}
}

// redactURL shows a target's scheme and host only: the rest of a webhook URL
// (a Slack one above all) is a secret.
func redactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "(a URL)"
	}
	host, _, _ := strings.Cut(rest, "/")
	if _, after, found := strings.Cut(host, "@"); found {
		host = after
	}
	return scheme + "://" + host + "/…"
}

func describeAlertFilter(filter klaxonhttp.AlertStateFilter) string {
	switch filter {
	case klaxonhttp.AlertsFiring:
		return "firing"
	case klaxonhttp.AlertsResolved:
		return "resolved in the last " + strings.TrimSuffix(klaxonhttp.RecentlyResolved.String(), "0m0s")
	}
	return "firing or resolved in the last " + strings.TrimSuffix(klaxonhttp.RecentlyResolved.String(), "0m0s")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

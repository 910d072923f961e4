package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// scheduleBackend is what the schedules commands act on: the database
// (through a klaxon.Client) or a server over it. Both backends implement it
// below, beside the backend interface rather than in it.
type scheduleBackend interface {
	Schedules(ctx context.Context, limit int) ([]*klaxontype.Schedule, error)
	Schedule(ctx context.Context, name string, outcomes int) (*klaxontype.Schedule, error)
	// The changes take the actor the audit log records; a server records
	// its token's name instead.
	CreateSchedule(ctx context.Context, definition klaxon.ScheduleDefinition, actor string) (*klaxontype.Schedule, error)
	PauseSchedule(ctx context.Context, name, actor string) (*klaxontype.Schedule, error)
	ResumeSchedule(ctx context.Context, name, actor string) (*klaxontype.Schedule, error)
	DeleteSchedule(ctx context.Context, name, actor string) error
}

func (b *storeBackend) Schedules(ctx context.Context, limit int) ([]*klaxontype.Schedule, error) {
	return b.client.ListSchedules(ctx, limit)
}

func (b *storeBackend) Schedule(ctx context.Context, name string, outcomes int) (*klaxontype.Schedule, error) {
	return b.client.GetSchedule(ctx, name, outcomes)
}

func (b *storeBackend) CreateSchedule(ctx context.Context, definition klaxon.ScheduleDefinition, actor string) (*klaxontype.Schedule, error) {
	return b.client.CreateSchedule(ctx, definition, actor)
}

func (b *storeBackend) PauseSchedule(ctx context.Context, name, actor string) (*klaxontype.Schedule, error) {
	return b.client.PauseSchedule(ctx, name, actor)
}

func (b *storeBackend) ResumeSchedule(ctx context.Context, name, actor string) (*klaxontype.Schedule, error) {
	return b.client.ResumeSchedule(ctx, name, actor)
}

func (b *storeBackend) DeleteSchedule(ctx context.Context, name, actor string) error {
	return b.client.DeleteSchedule(ctx, name, actor)
}

func (b *serverBackend) Schedules(ctx context.Context, limit int) ([]*klaxontype.Schedule, error) {
	return b.client.Schedules(ctx, limit)
}

func (b *serverBackend) Schedule(ctx context.Context, name string, outcomes int) (*klaxontype.Schedule, error) {
	return b.client.Schedule(ctx, name, outcomes)
}

func (b *serverBackend) CreateSchedule(ctx context.Context, definition klaxon.ScheduleDefinition, _ string) (*klaxontype.Schedule, error) {
	return b.client.CreateSchedule(ctx, definition)
}

func (b *serverBackend) PauseSchedule(ctx context.Context, name, _ string) (*klaxontype.Schedule, error) {
	return b.client.PauseSchedule(ctx, name)
}

func (b *serverBackend) ResumeSchedule(ctx context.Context, name, _ string) (*klaxontype.Schedule, error) {
	return b.client.ResumeSchedule(ctx, name)
}

func (b *serverBackend) DeleteSchedule(ctx context.Context, name, _ string) error {
	return b.client.DeleteSchedule(ctx, name)
}

// openSchedules opens the command's backend for the schedules commands.
func (m *Main) openSchedules(cmd *cobra.Command) (scheduleBackend, io.Closer, error) {
	b, err := m.openBackend(cmd)
	if err != nil {
		return nil, nil, err
	}
	schedules, ok := b.(scheduleBackend)
	if !ok {
		b.Close()
		return nil, nil, errors.New("this backend cannot manage schedules")
	}
	return schedules, b, nil
}

func (m *Main) schedulesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedules",
		Short: "List, show, create, pause, resume and delete schedules (cron expressions that enqueue runs)",
		Long: `A schedule enqueues one run of a workflow per tick of a cron expression, read in an IANA
time zone, exactly once across every started Go worker and klaxon server of the database.
Ticks missed while none of them ran follow the schedule's catch-up policy: one (the default:
the latest missed tick only, so a long downtime costs one run), skip, or all. Each decision
(a run started, ticks skipped, a tick failed) is recorded; klaxon schedules show prints the
latest ones with the status of each run. See docs/schedules.md.`,
		Example: `  klaxon schedules create nightly-recheck --workflow recheck --cron "0 3 * * *" --tz Europe/Paris
  klaxon schedules list
  klaxon schedules show nightly-recheck
  klaxon schedules pause nightly-recheck
  klaxon schedules resume nightly-recheck
  klaxon schedules delete nightly-recheck`,
		Args: exactArgs(0, "a subcommand: list, show, create, pause, resume or delete"),
	}
	m.addServerFlags(cmd)
	cmd.AddCommand(m.schedulesListCommand(), m.schedulesShowCommand(), m.schedulesCreateCommand(),
		m.schedulesStateCommand("pause", "Pause a schedule: it fires nothing until resumed"),
		m.schedulesStateCommand("resume", "Resume a paused schedule from its next tick after now (paused ticks are not caught up)"),
		m.schedulesDeleteCommand())
	return cmd
}

func (m *Main) schedulesListCommand() *cobra.Command {
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List schedules by name, with their next tick and latest decision",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 1000 {
				return &usageError{fmt.Errorf("--limit %d: give 1 to 1000", limit)}
			}
			b, closer, err := m.openSchedules(cmd)
			if err != nil {
				return err
			}
			defer closer.Close()
			schedules, err := b.Schedules(cmd.Context(), limit)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, orEmpty(schedules))
			}
			if len(schedules) == 0 {
				fmt.Fprintln(m.Stdout, "no schedules")
				return nil
			}
			table := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(table, "NAME\tWORKFLOW\tCRON\tTIME ZONE\tCATCH-UP\tSTATE\tNEXT TICK\tLAST DECISION")
			for _, s := range schedules {
				fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Workflow, s.Cron, s.TimeZone, s.CatchUp,
					scheduleState(s), formatTime(s.NextTick), lastDecision(s))
			}
			return table.Flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 100, "the most schedules to print")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func (m *Main) schedulesShowCommand() *cobra.Command {
	var outcomes int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a schedule and its latest decisions, with the status of each run it started",
		Args:  exactArgs(1, "the schedule's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if outcomes < 0 || outcomes > 200 {
				return &usageError{fmt.Errorf("--outcomes %d: give 0 to 200", outcomes)}
			}
			b, closer, err := m.openSchedules(cmd)
			if err != nil {
				return err
			}
			defer closer.Close()
			schedule, err := b.Schedule(cmd.Context(), args[0], outcomes)
			if err != nil {
				return err
			}
			return m.printSchedule(schedule, asJSON)
		},
	}
	cmd.Flags().IntVar(&outcomes, "outcomes", 20, "how many of the latest decisions to print")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func (m *Main) schedulesCreateCommand() *cobra.Command {
	var definition klaxon.ScheduleDefinition
	var input, catchUp string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "create NAME --workflow WORKFLOW --cron EXPRESSION",
		Short: "Create a schedule of a registered workflow",
		Long: `Create a schedule: one run of --workflow per tick of --cron, read in --tz (an IANA name,
default UTC). The expression has five fields (minute hour day-of-month month day-of-week),
six with a leading seconds field, or is a descriptor such as @hourly, @daily or @every 15m.
--input is every run's input (JSON, checked against the workflow's input schema).
--catch-up is one (default), skip or all. Nothing is saved if anything is refused.`,
		Example: `  klaxon schedules create nightly-recheck --workflow recheck --cron "0 3 * * *" --tz Europe/Paris --input '{"days":1}'
  klaxon schedules create poll --workflow poll-feeds --cron "@every 10m" --catch-up skip`,
		Args: exactArgs(1, "the schedule's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			definition.Name = args[0]
			definition.CatchUp = klaxontype.CatchUp(catchUp)
			if input != "" {
				if !json.Valid([]byte(input)) {
					return &usageError{fmt.Errorf("--input %q is not JSON", input)}
				}
				definition.Input = json.RawMessage(input)
			}
			b, closer, err := m.openSchedules(cmd)
			if err != nil {
				return err
			}
			defer closer.Close()
			actorName, err := m.actor(cmd, "")
			if err != nil {
				return err
			}
			schedule, err := b.CreateSchedule(cmd.Context(), definition, actorName)
			if err != nil {
				return err
			}
			return m.printSchedule(schedule, asJSON)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&definition.Workflow, "workflow", "", "the workflow each tick enqueues a run of")
	flags.StringVar(&definition.Cron, "cron", "", "the cron expression")
	flags.StringVar(&definition.TimeZone, "tz", "UTC", "the IANA time zone the expression is read in")
	flags.StringVar(&input, "input", "", "every run's input, as JSON (default null)")
	flags.StringVar(&catchUp, "catch-up", "one", "what to do with ticks missed while nothing fired: one, skip or all")
	flags.BoolVar(&asJSON, "json", false, "print as JSON")
	_ = cmd.MarkFlagRequired("workflow")
	_ = cmd.MarkFlagRequired("cron")
	return cmd
}

// schedulesStateCommand is pause or resume.
func (m *Main) schedulesStateCommand(action, short string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   action + " NAME",
		Short: short,
		Args:  exactArgs(1, "the schedule's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, closer, err := m.openSchedules(cmd)
			if err != nil {
				return err
			}
			defer closer.Close()
			change := b.PauseSchedule
			if action == "resume" {
				change = b.ResumeSchedule
			}
			actorName, err := m.actor(cmd, "")
			if err != nil {
				return err
			}
			schedule, err := change(cmd.Context(), args[0], actorName)
			if err != nil {
				return err
			}
			return m.printSchedule(schedule, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func (m *Main) schedulesDeleteCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a schedule and its recorded decisions (the runs it started stay)",
		Args:  exactArgs(1, "the schedule's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, closer, err := m.openSchedules(cmd)
			if err != nil {
				return err
			}
			defer closer.Close()
			actorName, err := m.actor(cmd, "")
			if err != nil {
				return err
			}
			if err := b.DeleteSchedule(cmd.Context(), args[0], actorName); err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, map[string]string{"deleted": args[0]})
			}
			fmt.Fprintf(m.Stdout, "deleted schedule %s\n", args[0])
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// printSchedule prints a schedule and the decisions it came with.
func (m *Main) printSchedule(s *klaxontype.Schedule, asJSON bool) error {
	if asJSON {
		return writeJSON(m.Stdout, s)
	}
	table := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(table, "schedule:\t%s\n", s.Name)
	fmt.Fprintf(table, "workflow:\t%s\n", s.Workflow)
	fmt.Fprintf(table, "cron:\t%s (%s)\n", s.Cron, s.TimeZone)
	fmt.Fprintf(table, "input:\t%s\n", s.Input)
	fmt.Fprintf(table, "catch-up:\t%s\n", s.CatchUp)
	fmt.Fprintf(table, "state:\t%s\n", scheduleState(s))
	fmt.Fprintf(table, "next tick:\t%s\n", formatTime(s.NextTick))
	fmt.Fprintf(table, "last tick:\t%s\n", orDash(formatOptionalTime(s.LastTick)))
	fmt.Fprintf(table, "declared:\t%s, created %s\n", s.Source, formatTime(s.CreatedAt))
	if err := table.Flush(); err != nil {
		return err
	}
	if s.Outcomes == nil {
		return nil
	}
	if len(s.Outcomes) == 0 {
		fmt.Fprintln(m.Stdout, "\nno decisions yet")
		return nil
	}
	fmt.Fprintln(m.Stdout, "\nlatest decisions:")
	table = tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "TICK\tDECISION\tRUN\tRUN STATUS\tREASON")
	for _, o := range s.Outcomes {
		status := string(o.RunStatus)
		if o.RunID != "" && status == "" {
			status = "(deleted)"
		}
		fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\n", formatTime(o.Tick), o.Decision, orDash(o.RunID), orDash(status), orDash(o.Reason))
	}
	return table.Flush()
}

func scheduleState(s *klaxontype.Schedule) string {
	if s.Paused {
		return "paused"
	}
	return "active"
}

// lastDecision is a schedule's latest decision in a few words.
func lastDecision(s *klaxontype.Schedule) string {
	if len(s.Outcomes) == 0 {
		return "-"
	}
	o := s.Outcomes[0]
	text := string(o.Decision)
	if o.RunStatus != "" {
		text += " (run " + string(o.RunStatus) + ")"
	}
	return text + " at " + formatTime(o.Tick)
}

func formatOptionalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

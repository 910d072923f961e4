package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// writeRunDetail prints a run for a person: its header, input and output, the
// manifest, the step log, the failed attempts and the event log.
func writeRunDetail(w io.Writer, d *runDetail) error {
	run := d.Run
	fmt.Fprintf(w, "Run %s\n", run.ID)
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(table, "  workflow\t%s (version %d)\n", run.Workflow, run.WorkflowVersion)
	fmt.Fprintf(table, "  status\t%s\n", run.Status)
	fmt.Fprintf(table, "  attempt\t%d (retries %d, epoch %d)\n", run.Attempt, run.Retries, run.Epoch)
	if run.IdempotencyKey != "" {
		fmt.Fprintf(table, "  idempotency key\t%s\n", run.IdempotencyKey)
	}
	fmt.Fprintf(table, "  entities\t%s\n", formatEntities(run.Entities))
	fmt.Fprintf(table, "  created\t%s\n", formatTime(run.CreatedAt))
	if !run.StartedAt.IsZero() {
		fmt.Fprintf(table, "  started\t%s\n", formatTime(run.StartedAt))
	}
	if !run.FinishedAt.IsZero() {
		fmt.Fprintf(table, "  finished\t%s (%s after creation)\n", formatTime(run.FinishedAt), run.FinishedAt.Sub(run.CreatedAt).Round(time.Millisecond))
	}
	if run.LeaseHolder != "" {
		fmt.Fprintf(table, "  lease\t%s until %s\n", run.LeaseHolder, formatTime(run.LeaseExpiresAt))
	}
	if f := run.Failure; f != nil {
		fmt.Fprintf(table, "  failure\t%s\n", formatFailure(f))
		fmt.Fprintf(table, "  reason\t%s\n", f.Reason)
	}
	if err := table.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nInput\n%s\n", indentJSON(run.Input))
	if len(run.Output) > 0 {
		fmt.Fprintf(w, "\nOutput\n%s\n", indentJSON(run.Output))
	}
	if m := d.Manifest; m != nil {
		fmt.Fprintf(w, "\nManifest: %d of %d expected steps executed", len(m.Expected)-len(m.Missing), len(m.Expected))
		if len(m.Missing) > 0 {
			fmt.Fprintf(w, "; missing: %s", strings.Join(m.Missing, ", "))
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "\nStep log (%d)\n", len(d.Steps))
	table = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "  SEQ\tNAME\tSTATUS\tATTEMPT\tDURATION\tIDEMPOTENCY KEY\tOUTPUT")
	for _, step := range d.Steps {
		fmt.Fprintf(table, "  %d\t%s\t%s\t%d\t%s\t%s\t%s\n", step.Seq, step.Name, step.Status, step.Attempt,
			step.Duration().Round(time.Microsecond), step.IdempotencyKey, oneLine(step.Output, 60))
	}
	if err := table.Flush(); err != nil {
		return err
	}

	if len(d.Attempts) > 0 {
		fmt.Fprintf(w, "\nFailed attempts (%d)\n", len(d.Attempts))
		table = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(table, "  ATTEMPT\tTIME\tWORKER\tSTEP\tCLASS\tCLASSIFIED BY\tMESSAGE")
		for _, a := range d.Attempts {
			step := "-"
			if a.Step != "" {
				step = fmt.Sprintf("%d %s", a.StepSeq, a.Step)
			}
			fmt.Fprintf(table, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Attempt, formatTime(a.At), a.Worker, step, a.Class, a.ClassifiedBy, a.Message)
		}
		if err := table.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintf(w, "\nEvent log (%d)\n", len(d.Events))
	table = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "  TIME\tEVENT\tACTOR\tSTEP\tMESSAGE")
	for _, e := range d.Events {
		step := "-"
		if e.Step != "" || e.StepSeq != 0 {
			step = fmt.Sprintf("%d %s", e.StepSeq, e.Step)
		}
		fmt.Fprintf(table, "  %s\t%s\t%s\t%s\t%s\n", formatTime(e.At), e.Type, e.Actor, step, e.Message)
	}
	return table.Flush()
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05.000")
}

func indentJSON(data json.RawMessage) string {
	var out bytes.Buffer
	if err := json.Indent(&out, data, "  ", "  "); err != nil {
		return "  " + string(data)
	}
	return "  " + out.String()
}

// oneLine compacts JSON onto one line and cuts it to n characters.
func oneLine(data json.RawMessage, n int) string {
	var out bytes.Buffer
	if err := json.Compact(&out, data); err != nil {
		out.Reset()
		out.Write(data)
	}
	s := out.String()
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

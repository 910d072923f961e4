package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/tracing"
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
	fmt.Fprintf(table, "  priority\t%d\n", run.Priority)
	if run.ConcurrencyKey != "" {
		fmt.Fprintf(table, "  concurrency\tkey %q, %s\n", run.ConcurrencyKey, concurrencySlotText(run.ConcurrencySlot))
	}
	if run.IdempotencyKey != "" {
		fmt.Fprintf(table, "  idempotency key\t%s\n", run.IdempotencyKey)
	}
	fmt.Fprintf(table, "  entities\t%s\n", formatEntities(run.Entities))
	fmt.Fprintf(table, "  created\t%s\n", formatTime(run.CreatedAt))
	// With tracing on, every attempt of the run is in the trace of this ID
	// (tracing.RunTraceIDs), in whichever process ran it.
	if traceID, ok := tracing.TraceID(run.ID); ok {
		fmt.Fprintf(table, "  trace id\t%s\n", traceID)
	}
	if !run.StartedAt.IsZero() {
		fmt.Fprintf(table, "  started\t%s\n", formatTime(run.StartedAt))
	}
	if !run.FinishedAt.IsZero() {
		fmt.Fprintf(table, "  finished\t%s (%s after creation)\n", formatTime(run.FinishedAt), run.FinishedAt.Sub(run.CreatedAt).Round(time.Millisecond))
	}
	if run.LeaseHolder != "" {
		fmt.Fprintf(table, "  lease\t%s until %s\n", run.LeaseHolder, formatTime(run.LeaseExpiresAt))
	}
	for _, wait := range d.Waits {
		if wait.State == klaxontype.WaitOpen && run.Status == klaxontype.RunStatusWaiting {
			fmt.Fprintf(table, "  waits on\t%s\n", describeOpenWait(wait, time.Now()))
		}
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
	if d.Completion != nil {
		fmt.Fprintf(w, "\ncompletion: %s\n", formatCompletion(d.Completion))
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

	if len(d.Waits) > 0 {
		fmt.Fprintf(w, "\nWaits (%d)\n", len(d.Waits))
		table = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(table, "  SEQ\tNAME\tKIND\tSTATE\tBEGAN\tDEADLINE\tENDED BY")
		for _, wait := range d.Waits {
			fmt.Fprintf(table, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\n", wait.Seq, wait.Name, wait.Kind, wait.State,
				formatTime(wait.StartedAt), formatTime(wait.Deadline), orDash(wait.EndedBy))
		}
		if err := table.Flush(); err != nil {
			return err
		}
	}
	if err := printFamily(w, d.Family); err != nil {
		return err
	}
	if len(d.Signals) > 0 {
		fmt.Fprintf(w, "\nSignals (%d)\n", len(d.Signals))
		table = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(table, "  SENT\tNAME\tFROM\tTAKEN BY STEP\tPAYLOAD")
		for _, signal := range d.Signals {
			taken := "kept"
			if signal.ConsumedSeq > 0 {
				taken = fmt.Sprint(signal.ConsumedSeq)
			}
			fmt.Fprintf(table, "  %s\t%s\t%s\t%s\t%s\n", formatTime(signal.SentAt), signal.Name, signal.Actor, taken, oneLine(signal.Payload, 60))
		}
		if err := table.Flush(); err != nil {
			return err
		}
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

// completionOf is the completion record of the last terminal event that
// carries one; nil for a run not ended, or ended before records were written.
func completionOf(events []*klaxontype.Event) *klaxontype.CompletionRecord {
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Record != nil {
			return events[i].Record
		}
	}
	return nil
}

// formatCompletion puts a completion record on one line: "5/5 expected
// steps, 7 attempts (2 retries), 1,234 tokens, $0.0012, 3.2s". Attempts are
// the executions of step functions, summed over the steps; a dead run's line
// starts with its status and class, a cancelled run's with its status.
func formatCompletion(r *klaxontype.CompletionRecord) string {
	var parts []string
	if r.Status != klaxontype.RunStatusCompleted {
		status := string(r.Status)
		if r.FailureClass != "" && string(r.FailureClass) != status {
			status += " (" + string(r.FailureClass) + ")"
		}
		parts = append(parts, status)
	}
	m := r.Manifest
	if len(m.Expected) > 0 {
		steps := fmt.Sprintf("%d/%d expected steps", len(m.Expected)-len(m.Missing), len(m.Expected))
		if len(m.Missing) > 0 {
			steps += " (missing " + strings.Join(m.Missing, ", ") + ")"
		}
		parts = append(parts, steps)
	} else {
		parts = append(parts, fmt.Sprintf("%d steps (none expected)", len(m.Executed)))
	}
	retries := plural(r.Retries, "retry", "retries")
	if r.Steps != nil {
		parts = append(parts, fmt.Sprintf("%s (%s)", plural(r.StepAttemptsTotal(), "attempt", "attempts"), retries))
	} else {
		parts = append(parts, fmt.Sprintf("%s (%s)", plural(r.Attempts, "run attempt", "run attempts"), retries))
	}
	parts = append(parts, formatCount(r.Spend.Usage.Total())+" tokens", formatDollars(r.Spend.Cost), formatDuration(r.Duration))
	return strings.Join(parts, ", ")
}

// formatCount groups a count's digits by thousands: 1,234.
func formatCount(n int64) string {
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return sign + b.String()
}

// formatDollars prints a cost to a hundredth of a cent, or finer for a cost
// that would print as zero; an unknown cost says so.
func formatDollars(c klaxontype.Cost) string {
	switch {
	case c.Unknown:
		return "unknown cost"
	case c.USD > 0 && c.USD < 0.0001:
		return fmt.Sprintf("$%.6f", c.USD)
	default:
		return fmt.Sprintf("$%.4f", c.USD)
	}
}

// formatDuration rounds a duration to what a person reads: 3.2s, 850ms.
func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

// plural counts n of a thing: "1 retry", "2 retries".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// describeOpenWait says what a waiting run waits for and until when.
func describeOpenWait(wait *klaxontype.Wait, now time.Time) string {
	what := fmt.Sprintf("%s %q (step %d)", wait.Kind, wait.Name, wait.Seq)
	if wait.Kind == klaxontype.WaitApproval && wait.Request != nil && wait.Request.Title != "" {
		what += ": " + wait.Request.Title
	}
	verb := "times out"
	if wait.Kind == klaxontype.WaitSleep {
		verb = "due"
	}
	if !wait.Deadline.After(now) {
		return fmt.Sprintf("%s; %s since %s, resumes when a worker claims it", what, verb, formatTime(wait.Deadline))
	}
	return fmt.Sprintf("%s; %s at %s (in %s)", what, verb, formatTime(wait.Deadline), klaxontype.ShortDuration(wait.Deadline.Sub(now)))
}

// printFamily prints a run's parent and its child runs, with their statuses.
func printFamily(w io.Writer, family *klaxontype.RunFamily) error {
	if family == nil || (family.Parent == nil && len(family.Children) == 0) {
		return nil
	}
	if p := family.Parent; p != nil {
		fmt.Fprintf(w, "\nParent: %s (%s, %s), started by its step %d\n", p.ParentID, p.Workflow, p.Status, p.ParentSeq)
	}
	if len(family.Children) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nChildren (%d)\n", len(family.Children))
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "  STEP\tRUN\tWORKFLOW\tSTATUS\tSTARTED")
	for _, c := range family.Children {
		fmt.Fprintf(table, "  %d\t%s\t%s\t%s\t%s\n", c.ParentSeq, c.ChildID, c.Workflow, c.Status, formatTime(c.CreatedAt))
	}
	return table.Flush()
}

// concurrencySlotText says where a run stands with its key's slots.
func concurrencySlotText(slot klaxontype.ConcurrencySlot) string {
	switch slot {
	case klaxontype.SlotHeld:
		return "holds a slot"
	case klaxontype.SlotWaiting:
		return "waits in pending for a slot"
	default:
		return "gave its slot up; judged again at its next claim"
	}
}

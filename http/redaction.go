package http

import (
	"context"
	"encoding/json"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/redact"
)

// Redaction happens here, at the read boundary, and nowhere else: the store
// keeps every value intact, so that an admin token sees it and a replay runs
// on the real input. Tokens of scope read and operate see the payloads of a
// workflow with a redaction rule (klaxon.Redact, klaxon.RedactPattern, or a
// worker's redact list, with the operator's policy of klaxon server
// --redaction added: klaxon.Config.Redaction) masked; operate is masked like read because acting on
// a run (replay, resolve, cancel, approve) does not need its secrets. A server
// without tokens answers this machine only, with every scope: it masks
// nothing.

// payloadMask is what one request may see of runs' payloads: each
// workflow's redaction rule. A nil *payloadMask masks nothing; its methods
// change the records they are given, which the store made for this request.
type payloadMask struct {
	rules *redact.Set
}

// maskFor is the mask of the request's token: nil for admin, for a server
// without tokens, and when no workflow has a rule.
func (s *Server) maskFor(ctx context.Context) (*payloadMask, error) {
	scope, ok := ctx.Value(scopeCtxKey{}).(Scope)
	if !ok || scope == ScopeAdmin {
		return nil, nil
	}
	rules, err := s.redactionRules(ctx)
	if err != nil || rules.Empty() {
		return nil, err
	}
	return &payloadMask{rules: rules}, nil
}

// redactionRules are the rules in force: the workflows' recorded rules with
// the client's policy added.
func (s *Server) redactionRules(ctx context.Context) (*redact.Set, error) {
	workflows, err := s.runs.WorkflowList(ctx)
	if err != nil {
		return nil, err
	}
	return redact.NewSet(workflows, s.client.RedactionPolicy())
}

// refuseMarker refuses a payload an operator supplies for a run of workflow
// (an edited input, a resolved step's output, an approval's edited data)
// when the workflow has a redaction rule and the payload still holds the
// marker: it was copied from a masked view, and would write the mask into
// the run in place of the real value. Whatever the token's scope, since an
// admin may paste what a colleague saw. An empty workflow stands for every
// workflow (a bulk replay without a workflow filter).
func (s *Server) refuseMarker(ctx context.Context, workflow, what string, payload json.RawMessage) error {
	path, found := redact.FindMarker(payload)
	if !found {
		return nil
	}
	rules, err := s.redactionRules(ctx)
	if err != nil {
		return err
	}
	if workflow != "" && rules.For(workflow).Empty() || workflow == "" && rules.Empty() {
		return nil
	}
	return invalid("%s holds %q at %s: that value was masked when it was shown, and the mask would replace the real value in the run; "+
		"give the real value, or leave %s out to keep the stored one", what, redact.Marker, path, what)
}

func (m *payloadMask) rule(workflow string) *redact.Rule {
	if m == nil {
		return nil
	}
	return m.rules.For(workflow)
}

func (m *payloadMask) runs(runs []*klaxontype.Run) {
	for _, run := range runs {
		m.run(run)
	}
}

func (m *payloadMask) run(run *klaxontype.Run) {
	if run == nil {
		return
	}
	rule := m.rule(run.Workflow)
	if rule.Empty() {
		return
	}
	run.Input, run.Output = rule.JSON(run.Input), rule.JSON(run.Output)
	if run.Failure != nil {
		run.Failure.Reason = rule.Text(run.Failure.Reason)
	}
}

// runDetail masks everything the run page shows of the run's payloads.
func (m *payloadMask) runDetail(detail *RunDetail) {
	rule := m.rule(detail.Run.Workflow)
	if rule.Empty() {
		return
	}
	m.run(detail.Run)
	for _, step := range detail.Steps {
		step.Output = rule.JSON(step.Output)
		step.CompensationError = rule.Text(step.CompensationError)
	}
	maskAttempts(rule, detail.Attempts)
	for _, event := range detail.Events {
		event.Message = rule.Text(event.Message)
	}
	for _, wait := range detail.Waits {
		maskWait(rule, wait)
	}
	for _, signal := range detail.Signals {
		signal.Payload = rule.JSON(signal.Payload)
	}
}

func (m *payloadMask) deadLetters(entries []*klaxontype.DeadLetter) {
	for _, entry := range entries {
		m.deadLetter(entry)
	}
}

func (m *payloadMask) deadLetter(entry *klaxontype.DeadLetter) {
	if entry != nil {
		*entry = *m.rule(entry.Workflow).DeadLetter(entry)
	}
}

func (m *payloadMask) waits(waits []*klaxontype.Wait) {
	for _, wait := range waits {
		maskWait(m.rule(wait.Workflow), wait)
	}
}

func (m *payloadMask) schedule(schedule *klaxontype.Schedule) {
	if schedule != nil {
		schedule.Input = m.rule(schedule.Workflow).JSON(schedule.Input)
	}
}

func maskAttempts(rule *redact.Rule, attempts []*klaxontype.Attempt) {
	for _, attempt := range attempts {
		attempt.Message, attempt.Stack = rule.Text(attempt.Message), rule.Text(attempt.Stack)
	}
}

func maskWait(rule *redact.Rule, wait *klaxontype.Wait) {
	if rule.Empty() || wait.Request == nil {
		return
	}
	wait.Request.Data = rule.JSON(wait.Request.Data)
	wait.Request.Title, wait.Request.Body = rule.Text(wait.Request.Title), rule.Text(wait.Request.Body)
}

// maskedEntry answers with a dead-letter entry as the request's token may
// see it.
func (s *Server) maskedEntry(ctx context.Context, entry *klaxontype.DeadLetter) (*entryOutput, error) {
	mask, err := s.maskFor(ctx)
	if err != nil {
		return nil, err
	}
	mask.deadLetter(entry)
	return &entryOutput{Body: entry}, nil
}

// refuseMarkerForEntry is refuseMarker for a payload given to act on a
// dead-letter entry, whose workflow the entry names.
func (s *Server) refuseMarkerForEntry(ctx context.Context, entryID, what string, payload json.RawMessage) error {
	if _, found := redact.FindMarker(payload); !found {
		return nil
	}
	entry, err := s.client.DeadLetter(ctx, entryID)
	if err != nil {
		return err
	}
	return s.refuseMarker(ctx, entry.Workflow, what, payload)
}

// maskedSchedule answers with a schedule as the request's token may see it.
func (s *Server) maskedSchedule(ctx context.Context, schedule *klaxontype.Schedule) (*scheduleOutput, error) {
	mask, err := s.maskFor(ctx)
	if err != nil {
		return nil, err
	}
	mask.schedule(schedule)
	return &scheduleOutput{Body: schedule}, nil
}

// maskSignalResults masks the payloads a signal's sender gets back: a
// duplicate send answers with the first signal, which another sender's
// payload may have made.
func (s *Server) maskSignalResults(ctx context.Context, results ...*klaxon.SignalResult) error {
	mask, err := s.maskFor(ctx)
	if mask == nil || err != nil {
		return err
	}
	for _, result := range results {
		if result == nil || result.Signal == nil {
			continue
		}
		run, err := s.runs.RunGet(ctx, result.Signal.RunID)
		if err != nil {
			return err
		}
		result.Signal.Payload = mask.rule(run.Workflow).JSON(result.Signal.Payload)
	}
	return nil
}

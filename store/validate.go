package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Validate reports what makes an enqueue impossible before any store is
// asked: every store refuses the same requests with the same words.
func (p *RunEnqueueParams) Validate() error {
	if p.ID == "" || p.Workflow == "" {
		return errors.New("a run needs an ID and a workflow")
	}
	if err := checkTexts("the run ID", p.ID, "the workflow", p.Workflow, "the idempotency key", p.IdempotencyKey, "the actor", p.Actor); err != nil {
		return err
	}
	if err := checkLabels("entity", p.Entities); err != nil {
		return err
	}
	if !json.Valid(p.Input) {
		return fmt.Errorf("input of run %s is not valid JSON", p.ID)
	}
	if err := klaxontype.CheckPriority(p.Priority); err != nil {
		return err
	}
	if p.ParentID != "" && !strings.HasPrefix(p.IdempotencyKey, ChildKeyPrefix) {
		return fmt.Errorf("child run %s of run %s needs an idempotency key beginning %q, so a retried parent finds it: %w",
			p.ID, p.ParentID, ChildKeyPrefix, klaxontype.ErrInvalid)
	}
	return nil
}

// Validate reports a failure that cannot be recorded: a retry needs the
// failed attempt, compensating and dead need the failure, and dead needs its
// dead-letter entry's ID and channel, and only dead carries a completion
// record.
func (p *RunFailParams) Validate() error {
	switch p.Next {
	case klaxontype.RunStatusRetrying:
		if p.Attempt == nil {
			return fmt.Errorf("scheduling a retry of run %s needs the failed attempt", p.RunID)
		}
	case klaxontype.RunStatusCompensating, klaxontype.RunStatusDead:
		if p.Failure == nil {
			return fmt.Errorf("run %s cannot become %s without a failure", p.RunID, p.Next)
		}
		if p.Next == klaxontype.RunStatusDead && (p.DeadLetter == nil || p.DeadLetter.ID == "" || p.DeadLetter.Channel == "") {
			return fmt.Errorf("dead run %s needs a dead-letter entry ID and channel", p.RunID)
		}
	default:
		return fmt.Errorf("a failed run cannot become %q", p.Next)
	}
	if p.Record != nil && p.Next != klaxontype.RunStatusDead {
		return fmt.Errorf("run %s becoming %s cannot carry a completion record: only its terminal event does", p.RunID, p.Next)
	}
	return nil
}

// Validate reports a cancel that names no run or no actor: the event log
// must say who cancelled. Its error matches klaxontype.ErrInvalid.
func (p *RunCancelParams) Validate() error {
	if p.ID == "" || p.Actor == "" {
		return fmt.Errorf("%w: cancelling a run needs its ID and an actor", klaxontype.ErrInvalid)
	}
	return checkTexts("the run ID", p.ID, "the reason", p.Reason, "the actor", p.Actor)
}

// Validate reports a replay that cannot be carried out whatever the entry:
// an unknown mode, an edited input that is not JSON, a restart without the
// new run's ID. Its error matches klaxontype.ErrInvalid.
func (p *DLQReplayParams) Validate() error {
	if !p.Mode.Valid() {
		return fmt.Errorf("%w: replay mode %q is not resume, from-step or restart", klaxontype.ErrInvalid, p.Mode)
	}
	if p.Input != nil && !json.Valid(p.Input) {
		return fmt.Errorf("%w: the replacement input is not valid JSON", klaxontype.ErrInvalid)
	}
	if p.Mode == klaxontype.ReplayRestart && p.NewRunID == "" {
		return fmt.Errorf("%w: a restart needs the new run's ID", klaxontype.ErrInvalid)
	}
	if b := p.Budget; b != nil && (b.Tokens < 0 || b.CostUSD < 0 || b.IsZero()) {
		return fmt.Errorf("%w: a replay's new budget needs a positive token count or cost", klaxontype.ErrInvalid)
	}
	return checkTexts("the entry ID", p.EntryID, "the step", p.Step, "the new run's ID", p.NewRunID, "the actor", p.Actor)
}

// Validate reports a resolve whose output is not JSON. Its error matches
// klaxontype.ErrInvalid.
func (p *DLQResolveParams) Validate() error {
	if !json.Valid(p.Output) {
		return fmt.Errorf("%w: the output is not valid JSON", klaxontype.ErrInvalid)
	}
	return checkTexts("the entry ID", p.EntryID, "the step", p.Step, "the idempotency key", p.IdempotencyKey, "the actor", p.Actor)
}

// Validate reports a discard without a reason, or with text no store can
// keep. Its error matches klaxontype.ErrInvalid.
func (p *DLQDiscardParams) Validate() error {
	if p.Reason == "" {
		return fmt.Errorf("%w: discarding an entry needs a reason", klaxontype.ErrInvalid)
	}
	return checkTexts("the entry ID", p.EntryID, "the reason", p.Reason, "the actor", p.Actor)
}

// Validate reports a filter no store can match: text with a NUL byte or
// invalid UTF-8. Its error matches klaxontype.ErrInvalid.
func (p *RunListParams) Validate() error {
	if err := checkTexts("the workflow filter", p.Workflow, "the before cursor", p.BeforeID); err != nil {
		return err
	}
	return checkLabels("the entity filter", p.Entities)
}

// Validate reports a filter no store can match: text with a NUL byte or
// invalid UTF-8. Its error matches klaxontype.ErrInvalid.
func (p *DLQListParams) Validate() error {
	if err := checkTexts("the workflow filter", p.Workflow, "the channel filter", p.Channel,
		"the run filter", p.RunID, "the before cursor", p.BeforeID); err != nil {
		return err
	}
	return checkLabels("the entity filter", p.Entities)
}

// Validate reports a tally that names no workflow. Its error matches
// klaxontype.ErrInvalid.
func (p *BreakerTallyParams) Validate() error {
	if p.Workflow == "" {
		return fmt.Errorf("%w: a breaker tally needs a workflow", klaxontype.ErrInvalid)
	}
	return nil
}

// invalidf is a refused request whose message names the problem; it matches
// klaxontype.ErrInvalid.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", klaxontype.ErrInvalid, fmt.Sprintf(format, args...))
}

package engine

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/store"
)

// RedactionDrop is what a registration stops masking: the redaction paths
// and patterns the workflow's recorded registration declared and the new one
// lacks. The latest registration of a workflow's name wins, so a worker
// deployed without the rule would unmask the workflow's runs for every read
// token; it is not refused, since removing a rule can be meant, but it is
// never quiet.
type RedactionDrop struct {
	Workflow string
	Paths    []string
	Patterns []string
}

// CheckRegistrations refuses a registration whose step manifest differs
// from the one recorded for the same workflow and version: runs enqueued
// under that version would be judged by whichever registration came last. A
// new manifest needs a new version. It returns what the registrations drop
// of the recorded redaction rules, for RecordRedactionDrops once they are
// registered. The registered workflows are read once for all the
// registrations.
func CheckRegistrations(ctx context.Context, st WorkflowLister, registrations ...*store.WorkflowRegisterParams) ([]RedactionDrop, error) {
	recorded, err := st.WorkflowList(ctx)
	if err != nil {
		return nil, err
	}
	var drops []RedactionDrop
	for _, registration := range registrations {
		for _, info := range recorded {
			if info.Name != registration.Name {
				continue
			}
			if paths, patterns := redact.Dropped(info.Policies, registration.Policies); len(paths)+len(patterns) > 0 {
				drops = append(drops, RedactionDrop{Workflow: info.Name, Paths: paths, Patterns: patterns})
			}
			if info.Version != registration.Version {
				continue
			}
			if !slices.Equal(info.ExpectedSteps, registration.ExpectedSteps) && !(len(info.ExpectedSteps) == 0 && len(registration.ExpectedSteps) == 0) {
				return nil, fmt.Errorf("workflow %q version %d is registered with the steps %q, and this registration declares %q: give the new manifest a new version: %w",
					registration.Name, registration.Version, info.ExpectedSteps, registration.ExpectedSteps, klaxontype.ErrManifestConflict)
			}
		}
	}
	return drops, nil
}

// auditAppender records an action in the audit log.
type auditAppender interface {
	AuditAppend(ctx context.Context, params *store.AuditAppendParams) error
}

// RecordRedactionDrops says, for each registration made that dropped
// redaction, what is no longer masked: a warning in the log and a
// redaction.drop record in the audit log, by the worker that registered. A
// failure to record is logged: the registration is made already.
func RecordRedactionDrops(ctx context.Context, st auditAppender, logger *slog.Logger, worker string, drops []RedactionDrop) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	for _, drop := range drops {
		logger.Warn("a registration dropped redaction rules: tokens below admin now see these values of the workflow's runs unmasked, unless the server's --redaction file masks them",
			"workflow", drop.Workflow, "worker", worker, "paths", drop.Paths, "patterns", drop.Patterns)
		err := st.AuditAppend(context.WithoutCancel(ctx), &store.AuditAppendParams{
			Actor: worker, Action: klaxontype.AuditRedactionDrop, Target: drop.Workflow,
			Params: map[string]any{"paths": nonNil(drop.Paths), "patterns": nonNil(drop.Patterns)},
			Result: fmt.Sprintf("registered without %d paths and %d patterns its previous registration masked", len(drop.Paths), len(drop.Patterns)),
		})
		if err != nil {
			logger.Error("recording a dropped redaction rule in the audit log failed", "workflow", drop.Workflow, "error", err)
		}
	}
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

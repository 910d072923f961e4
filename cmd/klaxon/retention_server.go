package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon"
)

// maxRetentionStartDelay bounds the random wait before a server first
// applies its retention rules: servers started together do not all start
// deleting at once.
const maxRetentionStartDelay = 30 * time.Second

// startRetention applies a retention file's rules every interval (give or
// take a tenth, so that several servers drift apart) until ctx ends, each
// rule in bounded batches recorded in the audit log as "retention". Several
// servers on one database may apply the same rules: a batch deletes only
// runs still there, so a run is deleted, and recorded, once.
func startRetention(ctx context.Context, wg *sync.WaitGroup, client *klaxon.Client, file *retentionFile, out, warnings io.Writer, logger *slog.Logger) {
	if file == nil {
		return
	}
	fmt.Fprintf(out, "retention (%s), applied every %s:\n", file.Path, formatAge(file.Interval))
	for i, rule := range file.Rules {
		fmt.Fprintf(out, "  rule %d: %s\n", i+1, rule)
	}
	warnUnknownWorkflows(ctx, client, file, warnings)
	wg.Go(func() {
		wait := time.Duration(rand.Int64N(int64(min(file.Interval, maxRetentionStartDelay))))
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			applyRetentionFile(ctx, client, file, logger)
			wait = file.Interval + time.Duration(rand.Int64N(int64(file.Interval/5)+1)) - file.Interval/10
		}
	})
}

// applyRetentionFile applies every rule once; a rule that fails is logged
// and tried again at the next interval, its committed batches kept.
func applyRetentionFile(ctx context.Context, client *klaxon.Client, file *retentionFile, logger *slog.Logger) {
	for i, rule := range file.Rules {
		if ctx.Err() != nil {
			return
		}
		result, err := applyRetentionRule(ctx, client, rule)
		deleted := 0
		if result != nil {
			deleted = result.Deleted
		}
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("klaxon server: retention rule failed; it is applied again at the next interval",
				"rule", i+1, "line", rule.Line, "deleted", deleted, "error", err)
		case deleted > 0:
			logger.Info("klaxon server: retention deleted ended runs", "rule", i+1, "deleted", deleted, "by_workflow", result.ByWorkflow)
		}
	}
}

// applyRetentionRule applies one rule, appending each batch to its export
// file first when it has one.
func applyRetentionRule(ctx context.Context, client *klaxon.Client, rule *retentionRuleFile) (*klaxon.RetentionResult, error) {
	policy := rule.Policy
	if rule.Export == "" {
		return client.ApplyRetention(ctx, &policy, nil, nil)
	}
	export, err := os.OpenFile(rule.Export, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the export file: %w", err)
	}
	result, err := client.ApplyRetention(ctx, &policy, export, nil)
	if syncErr := export.Sync(); err == nil && syncErr != nil {
		err = fmt.Errorf("export file %s: %w", rule.Export, syncErr)
	}
	if closeErr := export.Close(); err == nil && closeErr != nil {
		err = fmt.Errorf("export file %s: %w", rule.Export, closeErr)
	}
	return result, err
}

// warnUnknownWorkflows says which workflows the rules name that no worker
// has registered yet: most likely a typo, whose rule would delete nothing.
func warnUnknownWorkflows(ctx context.Context, client *klaxon.Client, file *retentionFile, warnings io.Writer) {
	known, err := client.Store().WorkflowList(ctx)
	if err != nil {
		return
	}
	names := make(map[string]bool, len(known))
	for _, w := range known {
		names[w.Name] = true
	}
	for i, rule := range file.Rules {
		for _, workflow := range rule.Policy.Workflows {
			if !names[workflow] {
				fmt.Fprintf(warnings, "klaxon server: warning: retention rule %d names workflow %q, which no worker has registered: it deletes nothing until one does\n", i+1, workflow)
			}
		}
	}
}

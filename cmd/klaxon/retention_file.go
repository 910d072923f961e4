package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// Defaults and bounds of a retention file.
const (
	// defaultRetentionInterval is how often a server applies its retention
	// rules unless the file says interval.
	defaultRetentionInterval = time.Hour
	// minRetentionInterval keeps a server from applying them in a loop.
	minRetentionInterval = time.Second
	// retentionActor is who a server's retention is recorded as in the
	// audit log.
	retentionActor = "retention"
)

// retentionFile is what klaxon server --retention applies: rules with the
// meaning of klaxon retention apply's flags, every Interval.
type retentionFile struct {
	Path     string
	Interval time.Duration
	Rules    []*retentionRuleFile
}

// retentionRuleFile is one rule of a retention file, and the policy it
// applies.
type retentionRuleFile struct {
	// Line is where the rule starts in the file.
	Line   int
	Policy klaxon.RetentionPolicy
	// Export is the JSON Lines file each batch is appended to before it is
	// deleted; empty exports nothing.
	Export string
}

// String describes a rule as the server prints it.
func (r *retentionRuleFile) String() string {
	statuses := "completed, dead and cancelled"
	if len(r.Policy.Statuses) > 0 {
		names := make([]string, len(r.Policy.Statuses))
		for i, s := range r.Policy.Statuses {
			names[i] = string(s)
		}
		statuses = strings.Join(names, " and ")
	}
	workflows := "every workflow"
	if len(r.Policy.Workflows) > 0 {
		workflows = strings.Join(r.Policy.Workflows, ", ")
	}
	text := fmt.Sprintf("runs %s of %s that ended more than %s ago, %d a batch", statuses, workflows, formatAge(r.Policy.OlderThan), r.Policy.Batch)
	if r.Export != "" {
		text += ", exported to " + r.Export + " first"
	}
	return text
}

// formatAge prints an age as days when it is whole days, as parseAge reads,
// and otherwise without zero minutes and seconds (1h, not 1h0m0s).
func formatAge(age time.Duration) string {
	if age >= 24*time.Hour && age%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", age/(24*time.Hour))
	}
	text := age.String()
	if strings.HasSuffix(text, "m0s") {
		text = strings.TrimSuffix(text, "0s")
	}
	if strings.HasSuffix(text, "h0m") {
		text = strings.TrimSuffix(text, "0m")
	}
	return text
}

// checkFields refuses a mapping with a key other than those allowed, naming
// the key and its line: a misspelt field must not be ignored.
func checkFields(node *yaml.Node, what string, allowed ...string) error {
	if node.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: %s is a mapping of %s", node.Line, what, strings.Join(allowed, ", "))
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key := node.Content[i]
		if !slices.Contains(allowed, key.Value) {
			return fmt.Errorf("line %d: unknown field %q: %s has %s", key.Line, key.Value, what, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// loadRetentionFile reads and checks a retention file whole: a mistake is
// an error naming the file, the rule's line and the field, and nothing is
// applied.
func loadRetentionFile(path string) (*retentionFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("retention file: %w", err)
	}
	file, err := parseRetentionFile(data, path)
	if err != nil {
		return nil, fmt.Errorf("retention file %s: %w", path, err)
	}
	return file, nil
}

// parseRetentionFile reads a retention file's YAML; dir-relative export
// paths are taken relative to the file.
func parseRetentionFile(data []byte, path string) (*retentionFile, error) {
	var document yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&document); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty: give rules, each with older_than")
		}
		return nil, err
	}
	var raw struct {
		Interval string    `yaml:"interval"`
		Batch    *int      `yaml:"batch"`
		Rules    yaml.Node `yaml:"rules"`
	}
	top := document.Content[0]
	if err := checkFields(top, "the file", "interval", "batch", "rules"); err != nil {
		return nil, err
	}
	if err := top.Decode(&raw); err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	file := &retentionFile{Path: path, Interval: defaultRetentionInterval}
	if raw.Interval != "" {
		interval, err := parseAge(raw.Interval)
		if err != nil {
			return nil, fmt.Errorf("interval %q: %v", raw.Interval, err)
		}
		if interval < minRetentionInterval {
			return nil, fmt.Errorf("interval %q: give at least %s", raw.Interval, minRetentionInterval)
		}
		file.Interval = interval
	}
	batch := klaxon.DefaultRetentionBatch
	if raw.Batch != nil {
		if *raw.Batch < 1 || *raw.Batch > store.MaxRetentionBatch {
			return nil, fmt.Errorf("batch %d: give 1 to %d runs a transaction", *raw.Batch, store.MaxRetentionBatch)
		}
		batch = *raw.Batch
	}
	if raw.Rules.Kind == 0 || len(raw.Rules.Content) == 0 {
		return nil, errors.New("no rules: give rules, each with older_than (and optionally statuses, workflows, batch, export)")
	}
	if raw.Rules.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("line %d: rules is a list of rules", raw.Rules.Line)
	}
	for i, node := range raw.Rules.Content {
		rule, err := parseRetentionRule(node, batch, path)
		if err != nil {
			return nil, fmt.Errorf("rule %d (line %d): %w", i+1, node.Line, err)
		}
		file.Rules = append(file.Rules, rule)
	}
	return file, nil
}

// parseRetentionRule reads one rule, strictly.
func parseRetentionRule(node *yaml.Node, batch int, path string) (*retentionRuleFile, error) {
	var raw struct {
		OlderThan string   `yaml:"older_than"`
		Statuses  []string `yaml:"statuses"`
		Workflows []string `yaml:"workflows"`
		Batch     *int     `yaml:"batch"`
		Export    string   `yaml:"export"`
	}
	if err := checkFields(node, "a rule", "older_than", "statuses", "workflows", "batch", "export"); err != nil {
		return nil, err
	}
	if err := node.Decode(&raw); err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var err error
	rule := &retentionRuleFile{Line: node.Line, Policy: klaxon.RetentionPolicy{Batch: batch, Actor: retentionActor}}
	if raw.OlderThan == "" {
		return nil, errors.New("older_than is required: the age past which ended runs are deleted, such as 30d or 720h")
	}
	if rule.Policy.OlderThan, err = parseAge(raw.OlderThan); err != nil {
		return nil, fmt.Errorf("older_than %q: %v", raw.OlderThan, err)
	}
	for _, status := range raw.Statuses {
		s := klaxontype.RunStatus(status)
		if !s.Terminal() {
			return nil, fmt.Errorf("status %q: retention deletes only ended runs: give completed, dead or cancelled", status)
		}
		rule.Policy.Statuses = append(rule.Policy.Statuses, s)
	}
	for _, workflow := range raw.Workflows {
		if strings.TrimSpace(workflow) == "" {
			return nil, errors.New("workflows: a workflow name is empty")
		}
		rule.Policy.Workflows = append(rule.Policy.Workflows, workflow)
	}
	if raw.Batch != nil {
		if *raw.Batch < 1 || *raw.Batch > store.MaxRetentionBatch {
			return nil, fmt.Errorf("batch %d: give 1 to %d runs a transaction", *raw.Batch, store.MaxRetentionBatch)
		}
		rule.Policy.Batch = *raw.Batch
	}
	if raw.Export != "" {
		export := raw.Export
		if !filepath.IsAbs(export) {
			export = filepath.Join(filepath.Dir(path), export)
		}
		if info, err := os.Stat(filepath.Dir(export)); err != nil || !info.IsDir() {
			return nil, fmt.Errorf("export %q: its folder %s does not exist", raw.Export, filepath.Dir(export))
		}
		if info, err := os.Stat(export); err == nil && info.IsDir() {
			return nil, fmt.Errorf("export %q is a folder: give a file to append JSON Lines to", raw.Export)
		}
		rule.Export = export
	}
	return rule, nil
}

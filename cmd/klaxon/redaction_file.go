package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	masking "github.com/klaxonhq/klaxon/redact"
)

// redactionFile is what klaxon server --redaction masks: the operator's
// rules by workflow, added to what each workflow's registration declares.
type redactionFile struct {
	Path string
	// Workflows are the file's entries in its order.
	Workflows []*redactionEntry
	Policy    *masking.Policy
}

// redactionEntry is one workflow's rules in a redaction file.
type redactionEntry struct {
	Workflow string
	Line     int
	Paths    []string
	Patterns []string
}

// String describes an entry as check and the server print it.
func (e *redactionEntry) String() string {
	name := fmt.Sprintf("workflow %s", e.Workflow)
	if e.Workflow == masking.AllWorkflows {
		name = `every workflow ("*")`
	}
	parts := []string{}
	if len(e.Paths) > 0 {
		parts = append(parts, "paths "+strings.Join(e.Paths, ", "))
	}
	if len(e.Patterns) > 0 {
		parts = append(parts, "patterns "+strings.Join(e.Patterns, ", "))
	}
	return name + ": " + strings.Join(parts, "; ")
}

// loadRedactionFile reads and checks a redaction file whole: a mistake is
// an error naming the file, the workflow's entry, its line and the problem,
// and nothing is applied.
func loadRedactionFile(path string) (*redactionFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("redaction file: %w", err)
	}
	file, err := parseRedactionFile(data, path)
	if err != nil {
		return nil, fmt.Errorf("redaction file %s: %w", path, err)
	}
	return file, nil
}

func parseRedactionFile(data []byte, path string) (*redactionFile, error) {
	var document yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&document); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New(`the file is empty: give workflows, each with paths or patterns ("*" for every workflow)`)
		}
		message := strings.TrimPrefix(err.Error(), "yaml: ")
		if strings.Contains(message, "alias") || strings.Contains(message, "did not find expected alphabetic or numeric character") {
			// An unquoted * begins a YAML alias.
			message += `: quote "*", the name that stands for every workflow`
		}
		return nil, errors.New(message)
	}
	top := document.Content[0]
	if err := checkFields(top, "the file", "workflows"); err != nil {
		return nil, err
	}
	var workflows *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		workflows = top.Content[i+1]
	}
	if workflows == nil || len(workflows.Content) == 0 {
		return nil, errors.New(`no workflows: give workflows, each with paths or patterns ("*" for every workflow)`)
	}
	if workflows.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: workflows is a mapping of workflow names (\"*\" for every workflow) to paths and patterns", workflows.Line)
	}
	file := &redactionFile{Path: path}
	rules := map[string]*masking.Rule{}
	for i := 0; i+1 < len(workflows.Content); i += 2 {
		name, node := workflows.Content[i], workflows.Content[i+1]
		entry, rule, err := parseRedactionEntry(name, node)
		if err != nil {
			return nil, fmt.Errorf("workflow %q (line %d): %w", name.Value, name.Line, err)
		}
		if _, twice := rules[entry.Workflow]; twice {
			return nil, fmt.Errorf("workflow %q (line %d) is listed twice: give its paths and patterns in one entry", name.Value, name.Line)
		}
		rules[entry.Workflow] = rule
		file.Workflows = append(file.Workflows, entry)
	}
	file.Policy = masking.NewPolicy(rules)
	return file, nil
}

// parseRedactionEntry reads one workflow's rules, strictly, and compiles
// each path and pattern on its own so that an error names the one at fault.
func parseRedactionEntry(name, node *yaml.Node) (*redactionEntry, *masking.Rule, error) {
	if strings.TrimSpace(name.Value) == "" {
		return nil, nil, errors.New(`the workflow name is empty: name a workflow, or "*" for every workflow`)
	}
	if err := checkFields(node, "a workflow's entry", "paths", "patterns"); err != nil {
		return nil, nil, err
	}
	var raw struct {
		Paths    []string `yaml:"paths"`
		Patterns []string `yaml:"patterns"`
	}
	if err := node.Decode(&raw); err != nil {
		return nil, nil, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(raw.Paths)+len(raw.Patterns) == 0 {
		return nil, nil, errors.New("give paths ($.customer.email) or patterns (sk-[A-Za-z0-9]{20,}) to mask")
	}
	lines := itemLines(node)
	for i, path := range raw.Paths {
		if _, err := masking.NewRule([]string{path}, nil); err != nil {
			return nil, nil, fmt.Errorf("path %d (line %d): %w", i+1, lines["paths"][i], err)
		}
	}
	for i, pattern := range raw.Patterns {
		if _, err := masking.NewRule(nil, []string{pattern}); err != nil {
			return nil, nil, fmt.Errorf("pattern %d (line %d): %w", i+1, lines["patterns"][i], err)
		}
	}
	rule, err := masking.NewRule(raw.Paths, raw.Patterns)
	if err != nil {
		return nil, nil, err
	}
	return &redactionEntry{Workflow: name.Value, Line: name.Line, Paths: raw.Paths, Patterns: raw.Patterns}, rule, nil
}

// itemLines gives the line of each item of an entry's lists, by field.
func itemLines(entry *yaml.Node) map[string][]int {
	lines := map[string][]int{}
	for i := 0; i+1 < len(entry.Content); i += 2 {
		field, list := entry.Content[i].Value, entry.Content[i+1]
		for _, item := range list.Content {
			lines[field] = append(lines[field], item.Line)
		}
	}
	return lines
}

func (m *Main) redactionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "redaction",
		Short: "Check a redaction file: what klaxon server --redaction masks for tokens below admin",
		Long: `A redaction file gives the operator's redaction rules by workflow ("*" for every workflow):
JSON paths ($.customer.email) whose values, and regular expressions whose matches, klaxon
server --redaction FILE masks for read and operate tokens in the API, the dashboard and the
notifications it delivers. They are added to the rules each workflow's registration declares,
and no registration can drop them. See docs/redaction.md for the format.`,
		Example: `  klaxon redaction check /etc/klaxon/redaction.yml`,
		Args:    subcommandsOnly("check"),
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Validate a redaction file (klaxon server --redaction) and print its rules",
		Long: `Parse and check a redaction file as klaxon server --redaction does: unknown fields, a
workflow without paths or patterns or listed twice, a path that is not $.field.subfield, a
pattern that is not a regular expression (Go RE2) or matches the empty string. A mistake is
printed with its workflow, line and path or pattern, and the exit code is 1; otherwise each
workflow's rules are printed.`,
		Example: `  klaxon redaction check /etc/klaxon/redaction.yml`,
		Args:    exactArgs(1, "one redaction file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := loadRedactionFile(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "%s: %d entries, masked for read and operate tokens by klaxon server --redaction, added to what registrations declare:\n",
				args[0], len(file.Workflows))
			printRedaction(m.Stdout, file)
			return nil
		},
	})
	return cmd
}

func printRedaction(w io.Writer, file *redactionFile) {
	for _, entry := range file.Workflows {
		fmt.Fprintf(w, "  %s\n", entry)
	}
}

// policy is the file's policy; nil without a file.
func (f *redactionFile) policy() *masking.Policy {
	if f == nil {
		return nil
	}
	return f.Policy
}

// printServerRedaction says at the server's start what it masks besides
// the workflows' own rules.
func printServerRedaction(w io.Writer, file *redactionFile) {
	if file == nil {
		fmt.Fprintln(w, "redaction: no --redaction file: tokens below admin see masked what each workflow's registration declares")
		return
	}
	fmt.Fprintf(w, "redaction (%s), masked for tokens below admin on top of the workflows' own rules:\n", file.Path)
	printRedaction(w, file)
}

package alert

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// ruleFields are the fields a rule of each kind may have, besides the ones
// every rule has.
var ruleFields = map[klaxontype.AlertKind][]string{
	klaxontype.AlertDLQRate:         {"class", "window", "threshold"},
	klaxontype.AlertDLQSpike:        {"class", "window", "baseline", "factor", "min_count"},
	klaxontype.AlertSpendSpike:      {"window", "baseline", "factor", "min_usd"},
	klaxontype.AlertCostPerRunSpike: {"window", "baseline", "factor", "min_runs"},
	klaxontype.AlertBudgetExceeded:  {"window", "threshold"},
	klaxontype.AlertBreakerOpen:     {},
	klaxontype.AlertStuckRuns:       {"baseline", "factor", "min_age", "percentile"},
	klaxontype.AlertNoLiveWorker:    {"after"},
	klaxontype.AlertApprovalOverdue: {"threshold"},
}

// commonFields are the fields of every rule.
var commonFields = []string{"name", "kind", "workflow", "severity", "repeat", "notify"}

// LoadFile reads a rules file; see Parse. getenv reads the targets'
// secret_env variables.
func LoadFile(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("alert rules: %w", err)
	}
	config, err := Parse(data, getenv)
	if err != nil {
		return nil, fmt.Errorf("alert rules %s: %w", path, err)
	}
	return config, nil
}

// Parse decodes a rules file, strictly: an unknown field, a field that does
// not apply to a rule's kind, a bad duration or number, a target nobody
// defined are errors naming the rule (or target), the field and its line.
// Parameters a rule leaves out take their kind's defaults. The file's rules
// replace the built-in ones unless it says builtin: true, which adds them
// (notifying the file's notify targets).
func Parse(data []byte, getenv func(string) string) (*Config, error) {
	decoder := yaml.NewDecoder(bytes.NewReader(data))
	var document yaml.Node
	if err := decoder.Decode(&document); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty: give rules, or no file for the built-in ones")
		}
		return nil, err
	}
	if len(document.Content) != 1 || document.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the file must be a mapping with rules (and targets, notify, repeat, builtin)")
	}
	top, err := fields(document.Content[0], "the file", []string{"targets", "notify", "repeat", "builtin", "rules"})
	if err != nil {
		return nil, err
	}
	config := &Config{}
	var defaultNotify []string
	defaultRepeat := DefaultRepeat
	builtin := false
	if node := top["notify"]; node != nil {
		if defaultNotify, err = stringList(node, "the file", "notify"); err != nil {
			return nil, err
		}
	}
	if node := top["repeat"]; node != nil {
		if defaultRepeat, err = durationOf(node, "the file", "repeat"); err != nil {
			return nil, err
		}
	}
	if node := top["builtin"]; node != nil {
		if err := node.Decode(&builtin); err != nil || node.Tag != "!!bool" {
			return nil, fmt.Errorf("the file: field \"builtin\" (line %d): %q is not true or false", node.Line, node.Value)
		}
	}
	if node := top["targets"]; node != nil {
		if config.Targets, err = targetsOf(node, getenv); err != nil {
			return nil, err
		}
	}
	if node := top["rules"]; node != nil {
		if node.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("the file: field \"rules\" (line %d): not a list of rules", node.Line)
		}
		for i, ruleNode := range node.Content {
			rule, err := ruleOf(ruleNode, i, defaultNotify, defaultRepeat)
			if err != nil {
				return nil, err
			}
			config.Rules = append(config.Rules, rule)
		}
	}
	if builtin {
		for _, rule := range Defaults() {
			rule.Notify = defaultNotify
			rule.Repeat = defaultRepeat
			config.Rules = append(config.Rules, rule)
		}
	}
	if len(config.Rules) == 0 {
		return nil, errors.New("the file has no rules: give rules, or builtin: true")
	}
	if err := config.Validate(); err != nil {
		return nil, err
	}
	return config, nil
}

// fields maps a mapping's keys to their values, refusing keys not allowed
// and keys given twice.
func fields(node *yaml.Node, what string, allowed []string) (map[string]*yaml.Node, error) {
	if node.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s (line %d): not a mapping of fields", what, node.Line)
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		known := false
		for _, name := range allowed {
			known = known || key.Value == name
		}
		if !known {
			return nil, fmt.Errorf("%s: unknown field %q (line %d)", what, key.Value, key.Line)
		}
		if out[key.Value] != nil {
			return nil, fmt.Errorf("%s: field %q given twice (line %d)", what, key.Value, key.Line)
		}
		out[key.Value] = value
	}
	return out, nil
}

func targetsOf(node *yaml.Node, getenv func(string) string) ([]*Target, error) {
	if node.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("the file: field \"targets\" (line %d): not a list of targets", node.Line)
	}
	var targets []*Target
	for i, targetNode := range node.Content {
		what := fmt.Sprintf("target %d (line %d)", i+1, targetNode.Line)
		if name := nameOf(targetNode); name != "" {
			what = fmt.Sprintf("target %q", name)
		}
		f, err := fields(targetNode, what, []string{"name", "url", "format", "secret", "secret_env"})
		if err != nil {
			return nil, err
		}
		target := &Target{Format: FormatJSON}
		for field, dest := range map[string]*string{"name": &target.Name, "url": &target.URL} {
			if f[field] == nil {
				return nil, fmt.Errorf("%s: field %q is missing", what, field)
			}
			if *dest, err = stringOf(f[field], what, field); err != nil {
				return nil, err
			}
		}
		if f["format"] != nil {
			format, err := stringOf(f["format"], what, "format")
			if err != nil {
				return nil, err
			}
			target.Format = Format(format)
		}
		if f["secret"] != nil && f["secret_env"] != nil {
			return nil, fmt.Errorf("%s: give secret or secret_env, not both", what)
		}
		if f["secret"] != nil {
			secret, err := stringOf(f["secret"], what, "secret")
			if err != nil {
				return nil, err
			}
			target.Secret = []byte(secret)
		}
		if f["secret_env"] != nil {
			name, err := stringOf(f["secret_env"], what, "secret_env")
			if err != nil {
				return nil, err
			}
			secret := getenv(name)
			if secret == "" {
				return nil, fmt.Errorf("%s: field \"secret_env\": the environment variable %s is empty or unset", what, name)
			}
			target.Secret = []byte(secret)
		}
		if len(target.Secret) > 0 && target.Format == FormatSlack {
			return nil, fmt.Errorf("%s: field \"secret\": slack targets are not signed (the URL is the secret)", what)
		}
		targets = append(targets, target)
	}
	return targets, nil
}

// nameOf returns a mapping's name field, for error messages before the
// mapping is checked.
func nameOf(node *yaml.Node) string {
	if node.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == "name" && node.Content[i+1].Kind == yaml.ScalarNode {
			return node.Content[i+1].Value
		}
	}
	return ""
}

func ruleOf(node *yaml.Node, index int, defaultNotify []string, defaultRepeat time.Duration) (*Rule, error) {
	what := fmt.Sprintf("rule %d (line %d)", index+1, node.Line)
	name := nameOf(node)
	if name != "" {
		what = fmt.Sprintf("rule %q", name)
	}
	f, err := fields(node, what, append(append([]string{}, commonFields...), "class", "window", "baseline",
		"threshold", "factor", "min_count", "min_usd", "min_runs", "min_age", "percentile", "after"))
	if err != nil {
		return nil, err
	}
	for _, field := range []string{"name", "kind"} {
		if f[field] == nil {
			return nil, fmt.Errorf("%s: field %q is missing", what, field)
		}
	}
	rule := &Rule{Notify: defaultNotify, Repeat: defaultRepeat}
	if rule.Name, err = stringOf(f["name"], what, "name"); err != nil {
		return nil, err
	}
	kind, err := stringOf(f["kind"], what, "kind")
	if err != nil {
		return nil, err
	}
	rule.Kind = klaxontype.AlertKind(kind)
	allowed, ok := ruleFields[rule.Kind]
	if !ok {
		return nil, fmt.Errorf("%s: field \"kind\" (line %d): %q is not one of %s", what, f["kind"].Line, kind, kindNames())
	}
	for field, value := range f {
		known := false
		for _, name := range append(append([]string{}, commonFields...), allowed...) {
			known = known || field == name
		}
		if !known {
			return nil, fmt.Errorf("%s: field %q (line %d) does not apply to kind %s", what, field, value.Line, rule.Kind)
		}
	}
	texts := map[string]*string{"workflow": &rule.Workflow}
	for field, dest := range texts {
		if f[field] != nil {
			if *dest, err = stringOf(f[field], what, field); err != nil {
				return nil, err
			}
		}
	}
	if f["class"] != nil {
		class, err := stringOf(f["class"], what, "class")
		if err != nil {
			return nil, err
		}
		rule.Class = klaxontype.FailureClass(class)
	}
	if f["severity"] != nil {
		severity, err := stringOf(f["severity"], what, "severity")
		if err != nil {
			return nil, err
		}
		rule.Severity = klaxontype.AlertSeverity(severity)
		if !rule.Severity.Valid() {
			return nil, fmt.Errorf("%s: field \"severity\" (line %d): %q is not warning or critical", what, f["severity"].Line, severity)
		}
	}
	if f["notify"] != nil {
		if rule.Notify, err = stringList(f["notify"], what, "notify"); err != nil {
			return nil, err
		}
	}
	durations := map[string]*time.Duration{"repeat": &rule.Repeat, "window": &rule.Window, "baseline": &rule.Baseline,
		"min_age": &rule.MinAge, "after": &rule.After}
	for field, dest := range durations {
		if f[field] != nil {
			if *dest, err = durationOf(f[field], what, field); err != nil {
				return nil, err
			}
		}
	}
	floats := map[string]*float64{"threshold": &rule.Threshold, "factor": &rule.Factor, "min_usd": &rule.MinUSD}
	for field, dest := range floats {
		if f[field] != nil {
			if *dest, err = numberOf(f[field], what, field); err != nil {
				return nil, err
			}
		}
	}
	ints := map[string]*int{"min_count": &rule.MinCount, "min_runs": &rule.MinRuns, "percentile": &rule.Percentile}
	for field, dest := range ints {
		if f[field] != nil {
			number, err := numberOf(f[field], what, field)
			if err != nil {
				return nil, err
			}
			if number != float64(int(number)) {
				return nil, fmt.Errorf("%s: field %q (line %d): %v is not a whole number", what, field, f[field].Line, number)
			}
			*dest = int(number)
		}
	}
	if rule.Kind == klaxontype.AlertSpendSpike && f["min_usd"] == nil {
		rule.MinUSD = defaultMinUSD
	}
	// A parameter given as zero must not silently take its default.
	for field, node := range f {
		if field == "min_usd" {
			continue
		}
		if node.Kind == yaml.ScalarNode && (node.Tag == "!!int" || node.Tag == "!!float") {
			if number, _ := strconv.ParseFloat(node.Value, 64); number <= 0 {
				return nil, fmt.Errorf("%s: field %q (line %d): %s is not above zero", what, field, node.Line, node.Value)
			}
		}
	}
	return defaultsOf(rule), nil
}

func stringOf(node *yaml.Node, what, field string) (string, error) {
	if node.Kind != yaml.ScalarNode || node.Tag != "!!str" || node.Value == "" {
		return "", fmt.Errorf("%s: field %q (line %d): not a non-empty string", what, field, node.Line)
	}
	return node.Value, nil
}

func stringList(node *yaml.Node, what, field string) ([]string, error) {
	if node.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: field %q (line %d): not a list of target names", what, field, node.Line)
	}
	list := []string{}
	for _, item := range node.Content {
		value, err := stringOf(item, what, field)
		if err != nil {
			return nil, err
		}
		list = append(list, value)
	}
	return list, nil
}

func durationOf(node *yaml.Node, what, field string) (time.Duration, error) {
	if node.Kind != yaml.ScalarNode {
		return 0, fmt.Errorf("%s: field %q (line %d): not a duration (like 30s, 5m, 1h)", what, field, node.Line)
	}
	d, err := time.ParseDuration(node.Value)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: field %q (line %d): %q is not a positive duration (like 30s, 5m, 1h)", what, field, node.Line, node.Value)
	}
	return d, nil
}

func numberOf(node *yaml.Node, what, field string) (float64, error) {
	if node.Kind != yaml.ScalarNode || (node.Tag != "!!int" && node.Tag != "!!float") {
		return 0, fmt.Errorf("%s: field %q (line %d): %q is not a number", what, field, node.Line, node.Value)
	}
	number, err := strconv.ParseFloat(node.Value, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: field %q (line %d): %q is not a number", what, field, node.Line, node.Value)
	}
	return number, nil
}

// checkURL accepts an absolute http or https URL.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http or https URL", u.Redacted())
	}
	return nil
}

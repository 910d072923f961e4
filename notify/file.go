package notify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/klaxonhq/klaxon/redact"
)

// TargetType is how a target is told of a notification.
type TargetType string

const (
	// TargetWebhook posts the notification as JSON, signed with the target's
	// secret exactly as package webhook signs (Klaxon-Signature,
	// Klaxon-Delivery, Klaxon-Event).
	TargetWebhook TargetType = "webhook"
	// TargetSlack posts a Slack incoming-webhook message: a readable text
	// with the class, workflow, reason and, with dashboard_url, a link.
	TargetSlack TargetType = "slack"
	// TargetTemplate posts the JSON body a Go text/template writes from the
	// notification (see Notification), for any service that takes JSON.
	TargetTemplate TargetType = "template"
)

// TargetTypes lists every target type.
func TargetTypes() []TargetType { return []TargetType{TargetWebhook, TargetSlack, TargetTemplate} }

// Defaults of a channels file's optional fields.
const (
	// DefaultTimeout bounds one request to a target unless it says timeout.
	DefaultTimeout = 10 * time.Second
	// DefaultAlertAfter is how many failed attempts in a row of one target
	// raise an alert unless the file says alert_after.
	DefaultAlertAfter = 5
	// maxTimeout keeps a target from holding its notifications longer than
	// the outbox's lease on them.
	maxTimeout = 5 * time.Minute
)

// Target is one recipient of a channel's notifications.
type Target struct {
	// Channel is the outbox channel whose notifications it receives.
	Channel string
	// Name tells the target from the channel's others in errors and
	// alerts; by default its type.
	Name string
	Type TargetType
	URL  string
	// Secret signs a webhook target's bodies; the other types have none.
	Secret  []byte
	Timeout time.Duration
	// Template writes a template target's body.
	Template *template.Template
	// Line is where the target starts in the file.
	Line int
	// OmitPayload withholds the run's input of a dead-letter entry from
	// the target (it gets null); Redact replaces the values its JSON paths
	// name with "[redacted]". Either keeps customers' data from a target
	// that needs only to know that something died.
	OmitPayload bool
	Redact      []redact.Path
}

// String names the target as errors and alerts do: channel/name.
func (t *Target) String() string { return t.Channel + "/" + t.Name }

// Host is the target URL's scheme and host: enough to say where it
// delivers, without the path, which for a Slack URL is the secret.
func (t *Target) Host() string {
	u, err := url.Parse(t.URL)
	if err != nil {
		return "(a URL)"
	}
	return u.Scheme + "://" + u.Host
}

// Channel is an outbox channel and the targets it delivers to.
type Channel struct {
	Name    string
	Targets []*Target
}

// Config is a channels file: which targets each channel's notifications go
// to, and how they are told.
type Config struct {
	// DashboardURL is the base URL of the dashboard, for links in Slack
	// messages and templates; empty gives none.
	DashboardURL string
	// AlertAfter is how many failed attempts in a row of one target raise
	// an alert.
	AlertAfter int
	// AlertChannels are the file's channels told when that alert fires and
	// resolves; none by default (the alert is seen in klaxon alerts and
	// the dashboard).
	AlertChannels []string
	// Channels are in the order of the file.
	Channels []*Channel
}

// ChannelNames lists the file's channels, for the outbox dispatcher's claims.
func (c *Config) ChannelNames() []string {
	names := make([]string, len(c.Channels))
	for i, ch := range c.Channels {
		names[i] = ch.Name
	}
	return names
}

// Targets returns a channel's targets, or nil.
func (c *Config) Targets(channel string) []*Target {
	for _, ch := range c.Channels {
		if ch.Name == channel {
			return ch.Targets
		}
	}
	return nil
}

// LoadFile reads and checks a channels file; see Parse. getenv reads the
// variables that url_env and secret_env name.
func LoadFile(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("channels file: %w", err)
	}
	config, err := Parse(data, getenv)
	if err != nil {
		return nil, fmt.Errorf("channels file %s: %w", path, err)
	}
	return config, nil
}

// Parse decodes a channels file strictly: an unknown field, a target of an
// unknown type or without a URL, an environment variable not set, a bad
// timeout, a template that fails or writes invalid JSON for a sample of any
// notification kind, are errors naming the channel, the target, the field
// and its line.
func Parse(data []byte, getenv func(string) string) (*Config, error) {
	var document yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&document); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty: give channels and their targets")
		}
		return nil, err
	}
	if len(document.Content) != 1 || document.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the file must be a mapping with channels (and dashboard_url, alert_after, alert_channels)")
	}
	top, err := fields(document.Content[0], "the file", []string{"channels", "dashboard_url", "alert_after", "alert_channels"})
	if err != nil {
		return nil, err
	}
	config := &Config{AlertAfter: DefaultAlertAfter}
	if node := top["dashboard_url"]; node != nil {
		if config.DashboardURL, err = urlOf(node, "the file", "dashboard_url"); err != nil {
			return nil, err
		}
		config.DashboardURL = strings.TrimRight(config.DashboardURL, "/")
	}
	if node := top["alert_after"]; node != nil {
		n, err := strconv.Atoi(node.Value)
		if err != nil || node.Kind != yaml.ScalarNode || n < 1 {
			return nil, fmt.Errorf("the file: field \"alert_after\" (line %d): %q is not a count of 1 or more", node.Line, node.Value)
		}
		config.AlertAfter = n
	}
	channels := top["channels"]
	if channels == nil {
		return nil, errors.New("the file: field \"channels\" is missing: map each channel to its targets")
	}
	if channels.Kind != yaml.MappingNode || len(channels.Content) == 0 {
		return nil, fmt.Errorf("the file: field \"channels\" (line %d): not a mapping of channel names to lists of targets", channels.Line)
	}
	for i := 0; i+1 < len(channels.Content); i += 2 {
		key, value := channels.Content[i], channels.Content[i+1]
		name := key.Value
		if strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("channels: a channel without a name (line %d)", key.Line)
		}
		if config.Targets(name) != nil {
			return nil, fmt.Errorf("channel %q: given twice (line %d)", name, key.Line)
		}
		channel, err := channelOf(name, value, getenv)
		if err != nil {
			return nil, err
		}
		config.Channels = append(config.Channels, channel)
	}
	if node := top["alert_channels"]; node != nil {
		if node.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("the file: field \"alert_channels\" (line %d): not a list of channels", node.Line)
		}
		for _, item := range node.Content {
			name, err := stringOf(item, "the file", "alert_channels")
			if err != nil {
				return nil, err
			}
			if config.Targets(name) == nil {
				return nil, fmt.Errorf("the file: field \"alert_channels\" (line %d): %q is not one of the file's channels (%s)",
					item.Line, name, strings.Join(config.ChannelNames(), ", "))
			}
			config.AlertChannels = append(config.AlertChannels, name)
		}
	}
	return config, nil
}

// channelOf reads one channel's list of targets.
func channelOf(name string, node *yaml.Node, getenv func(string) string) (*Channel, error) {
	if node.Kind != yaml.SequenceNode || len(node.Content) == 0 {
		return nil, fmt.Errorf("channel %q (line %d): not a list of targets", name, node.Line)
	}
	channel := &Channel{Name: name}
	for i, targetNode := range node.Content {
		target, err := targetOf(name, i, targetNode, getenv)
		if err != nil {
			return nil, err
		}
		for _, other := range channel.Targets {
			if other.Name == target.Name {
				return nil, fmt.Errorf("channel %q: two targets named %q (lines %d and %d): give each a name", name, target.Name, other.Line, target.Line)
			}
		}
		channel.Targets = append(channel.Targets, target)
	}
	return channel, nil
}

// targetFields are the fields a target of each type may have.
var targetFields = map[TargetType][]string{
	TargetWebhook:  {"name", "type", "url", "url_env", "timeout", "secret", "secret_env", "omit_payload", "redact"},
	TargetSlack:    {"name", "type", "url", "url_env", "timeout"},
	TargetTemplate: {"name", "type", "url", "url_env", "timeout", "template", "omit_payload", "redact"},
}

// targetOf reads and checks one target.
func targetOf(channel string, index int, node *yaml.Node, getenv func(string) string) (*Target, error) {
	what := fmt.Sprintf("channel %q, target %d (line %d)", channel, index+1, node.Line)
	f, err := fields(node, what, []string{"name", "type", "url", "url_env", "timeout", "secret", "secret_env", "template", "omit_payload", "redact"})
	if err != nil {
		return nil, err
	}
	if f["type"] == nil {
		return nil, fmt.Errorf("%s: field \"type\" is missing: give one of %s", what, typeNames())
	}
	typeName, err := stringOf(f["type"], what, "type")
	if err != nil {
		return nil, err
	}
	target := &Target{Channel: channel, Type: TargetType(typeName), Name: typeName, Timeout: DefaultTimeout, Line: node.Line}
	allowed, ok := targetFields[target.Type]
	if !ok {
		return nil, fmt.Errorf("%s: field \"type\" (line %d): %q is not one of %s", what, f["type"].Line, typeName, typeNames())
	}
	if f["name"] != nil {
		if target.Name, err = stringOf(f["name"], what, "name"); err != nil {
			return nil, err
		}
		what = fmt.Sprintf("channel %q, target %q (line %d)", channel, target.Name, node.Line)
	}
	for field, value := range f {
		if !slices.Contains(allowed, field) {
			return nil, fmt.Errorf("%s: field %q (line %d) does not apply to a %s target", what, field, value.Line, target.Type)
		}
	}
	if target.URL, err = secretOr(f, "url", what, getenv); err != nil {
		return nil, err
	}
	if target.URL == "" {
		return nil, fmt.Errorf("%s: field \"url\" is missing: give url or url_env", what)
	}
	if err := checkURL(target.URL); err != nil {
		field, line := "url", 0
		if f["url"] != nil {
			line = f["url"].Line
		} else {
			field, line = "url_env", f["url_env"].Line
		}
		return nil, fmt.Errorf("%s: field %q (line %d): %w", what, field, line, err)
	}
	if node := f["timeout"]; node != nil {
		d, err := time.ParseDuration(node.Value)
		if err != nil || d <= 0 || d > maxTimeout {
			return nil, fmt.Errorf("%s: field \"timeout\" (line %d): %q is not a duration from 1ms to %s, such as 10s", what, node.Line, node.Value, maxTimeout)
		}
		target.Timeout = d
	}
	if node := f["omit_payload"]; node != nil {
		if node.Kind != yaml.ScalarNode || (node.Value != "true" && node.Value != "false") {
			return nil, fmt.Errorf("%s: field \"omit_payload\" (line %d): %q is not true or false", what, node.Line, node.Value)
		}
		target.OmitPayload = node.Value == "true"
	}
	if node := f["redact"]; node != nil {
		if node.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("%s: field \"redact\" (line %d): give a list of JSON paths, such as [$.customer.email]", what, node.Line)
		}
		for _, item := range node.Content {
			path, err := redact.ParsePath(item.Value)
			if item.Kind != yaml.ScalarNode || err != nil {
				if err == nil {
					err = fmt.Errorf("not a JSON path")
				}
				return nil, fmt.Errorf("%s: field \"redact\" (line %d): %w", what, item.Line, err)
			}
			target.Redact = append(target.Redact, path)
		}
	}
	switch target.Type {
	case TargetWebhook:
		secret, err := secretOr(f, "secret", what, getenv)
		if err != nil {
			return nil, err
		}
		if secret == "" {
			return nil, fmt.Errorf("%s: field \"secret\" is missing: a webhook target is signed; give secret or secret_env", what)
		}
		target.Secret = []byte(secret)
	case TargetTemplate:
		node := f["template"]
		if node == nil {
			return nil, fmt.Errorf("%s: field \"template\" is missing: a template target's body is written by a Go text/template", what)
		}
		text, err := stringOf(node, what, "template")
		if err != nil {
			return nil, err
		}
		if target.Template, err = parseTemplate(target.String(), text); err != nil {
			return nil, fmt.Errorf("%s: field \"template\" (line %d): %w", what, node.Line, err)
		}
	}
	return target, nil
}

// secretOr reads a value given in the file (field) or by an environment
// variable (field_env), not both; "" when neither is given.
func secretOr(f map[string]*yaml.Node, field, what string, getenv func(string) string) (string, error) {
	direct, fromEnv := f[field], f[field+"_env"]
	switch {
	case direct != nil && fromEnv != nil:
		return "", fmt.Errorf("%s: give %s or %s_env, not both (lines %d and %d)", what, field, field, direct.Line, fromEnv.Line)
	case direct != nil:
		return stringOf(direct, what, field)
	case fromEnv != nil:
		name, err := stringOf(fromEnv, what, field+"_env")
		if err != nil {
			return "", err
		}
		value := getenv(name)
		if value == "" {
			return "", fmt.Errorf("%s: field \"%s_env\" (line %d): the environment variable %s is empty or unset", what, field, fromEnv.Line, name)
		}
		return value, nil
	}
	return "", nil
}

// checkURL accepts an absolute http or https URL.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("not an absolute http or https URL")
	}
	return nil
}

func urlOf(node *yaml.Node, what, field string) (string, error) {
	value, err := stringOf(node, what, field)
	if err != nil {
		return "", err
	}
	if err := checkURL(value); err != nil {
		return "", fmt.Errorf("%s: field %q (line %d): %w", what, field, node.Line, err)
	}
	return value, nil
}

// fields maps a mapping's keys to their values, refusing keys not allowed
// and keys given twice.
func fields(node *yaml.Node, what string, allowed []string) (map[string]*yaml.Node, error) {
	if node.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a mapping of fields", what)
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		if !slices.Contains(allowed, key.Value) {
			return nil, fmt.Errorf("%s: unknown field %q (line %d)", what, key.Value, key.Line)
		}
		if out[key.Value] != nil {
			return nil, fmt.Errorf("%s: field %q given twice (line %d)", what, key.Value, key.Line)
		}
		out[key.Value] = value
	}
	return out, nil
}

func stringOf(node *yaml.Node, what, field string) (string, error) {
	if node.Kind != yaml.ScalarNode || node.Value == "" {
		return "", fmt.Errorf("%s: field %q (line %d): not a non-empty string", what, field, node.Line)
	}
	return node.Value, nil
}

func typeNames() string {
	names := make([]string, 0, len(TargetTypes()))
	for _, t := range TargetTypes() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}

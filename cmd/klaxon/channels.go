package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/oklog/ulid/v2"
	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	masking "github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/store"
)

func (m *Main) channelsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "channels",
		Short: "Check a channels file: where klaxon server --channels delivers notifications",
		Long: `A channels file maps the outbox's channels (the dead-letter channels review, ops,
security and those your workflows route to; breakers go to the channel of their failure
class) to webhook, Slack and JSON-template targets. klaxon server --channels FILE delivers
them; see docs/notifications.md for the format.`,
		Example: `  klaxon channels check /etc/klaxon/channels.yml`,
		Args:    subcommandsOnly("check"),
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(m.channelsCheckCommand())
	return cmd
}

func (m *Main) channelsCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a channels file and print what it would deliver where",
		Long: `Parse and check a channels file as klaxon server --channels does: unknown fields and
target types, missing URLs and secrets, unset environment variables, templates that fail or
write invalid JSON for any notification kind. A mistake is printed with its channel, target,
field and line, and the exit code is 1; otherwise each channel's targets are printed with
the message a sample dead letter would make.`,
		Args: exactArgs(1, "one channels file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			config, err := notify.LoadFile(args[0], m.Getenv)
			if err != nil {
				return err
			}
			targets := 0
			for _, ch := range config.Channels {
				targets += len(ch.Targets)
			}
			fmt.Fprintf(m.Stdout, "%s: %d channels, %d targets; a target failing %d attempts in a row raises an alert\n",
				args[0], len(config.Channels), targets, config.AlertAfter)
			printChannels(m.Stdout, config, true)
			return nil
		},
	}
}

// printChannels says where each channel's notifications go and, with
// preview, what a sample dead letter would look like at each target. URLs
// show their host only: the path of a Slack URL is its secret.
func printChannels(w io.Writer, config *notify.Config, preview bool) {
	for _, ch := range config.Channels {
		fmt.Fprintf(w, "  channel %s:\n", ch.Name)
		for _, t := range ch.Targets {
			fmt.Fprintf(w, "    %s: %s to %s/…, timeout %s", t.Name, t.Type, t.Host(), t.Timeout)
			if t.Type == notify.TargetWebhook {
				fmt.Fprint(w, ", signed (Klaxon-Signature)")
			}
			if !preview {
				fmt.Fprintln(w)
				continue
			}
			if t.Type == notify.TargetWebhook {
				fmt.Fprintln(w, ": the dead-letter entry, breaker or alert as JSON")
				continue
			}
			body, err := config.Preview(t)
			if err != nil {
				fmt.Fprintf(w, "; a sample dead letter fails: %v\n", err)
				continue
			}
			fmt.Fprintf(w, "; a dead letter reads: %s\n", strings.TrimSpace(string(body)))
		}
	}
}

// loadChannels reads --channels before the database is opened, so that a
// mistake changes nothing; nil without a file. The alert rules' notify
// "channel:NAME" must name a channel of the file; a channel that an alert
// target of --alert-rules delivers already is refused: two deliverers of one
// channel would each take some of its notifications.
func loadChannels(path string, alerts *alert.Config, getenv func(string) string) (*notify.Config, error) {
	notified := alerts.NotifiedChannels()
	if path == "" {
		if len(notified) > 0 {
			return nil, fmt.Errorf("the alert rules notify %s%s, which only a --channels file delivers: give one", alert.ChannelPrefixNotify, notified[0])
		}
		return nil, nil
	}
	config, err := notify.LoadFile(path, getenv)
	if err != nil {
		return nil, err
	}
	for _, channel := range notified {
		if config.Targets(channel) == nil {
			return nil, fmt.Errorf("the alert rules notify %s%s, which channels file %s does not list (it has %s)",
				alert.ChannelPrefixNotify, channel, path, strings.Join(config.ChannelNames(), ", "))
		}
	}
	for _, channel := range alerts.Channels() {
		if config.Targets(channel) != nil {
			return nil, fmt.Errorf("channels file %s: channel %q is the channel of alert target %q of the alert rules: deliver it in one file only",
				path, channel, strings.TrimPrefix(channel, alert.ChannelPrefix))
		}
	}
	return config, nil
}

// startChannels starts the server's deliverer of the channels file, if
// any, until ctx ends; wg waits for it. The entries it delivers are masked
// by the workflows' redaction rules with redaction's added.
func startChannels(ctx context.Context, wg *sync.WaitGroup, st notify.Store, config *notify.Config, redaction *masking.Policy, out io.Writer, logger *slog.Logger) {
	if config == nil {
		fmt.Fprintln(out, "notifications: no --channels file: this server delivers no dead-letter or breaker notifications (klaxon outbox list shows those waiting)")
		return
	}
	fmt.Fprintf(out, "notifications delivered to the targets of %d channels:\n", len(config.Channels))
	printChannels(out, config, false)
	deliverer := notify.New(st, config, notify.Options{Holder: channelsHolder(), Logger: logger, Redaction: redaction})
	wg.Go(func() { deliverer.Run(ctx) })
}

// channelsHolder names this process's deliverer in the outbox's claims.
func channelsHolder() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("klaxon-channels/%s/%d/%s", host, os.Getpid(), ulid.Make())
}

// The store a server opens is a deliverer's store.
var _ notify.Store = store.Store(nil)

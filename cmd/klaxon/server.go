package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/dashboard"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/metrics"
)

func (m *Main) serverCommand() *cobra.Command {
	var addr, tokensFile, alertRules, channelsFile, retentionPath, redactionPath string
	var alertInterval time.Duration
	var hosts []string
	var behindProxy bool
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Serve the HTTP API and the worker protocol over a database until interrupted",
		Long: `Serve Klaxon's HTTP API under /api/v1, with /healthz, /readyz and the OpenAPI document
at /api/v1/openapi.json, and the web dashboard at / (it signs in with an access token). The server works no runs itself: Go workers run in your programs
against the same database, and workers in other languages connect over the worker protocol
under /api/v1/worker/ with a token of scope worker. Any number of servers may serve one
PostgreSQL database.

Prometheus metrics read from the database (runs by status, dead-letter entries by class,
breakers, outbox backlog; runs, attempts, retries, tokens and dollars by workflow), right
whatever process did the work and the same on every server (aggregate them with max), are
at /metrics; with access tokens it needs one of scope read. Per-process step, token and
cost metrics of runs worked over the worker protocol (/api/v1/worker/,
docs/worker-protocol.md: Python and TypeScript workers) are counted by the server that
handled each request (sum them); Go workers count their own (see package metrics).
docs/metrics.md lists them.

Access tokens come from --tokens FILE, one a line "NAME SCOPE SECRET" (SCOPE is read,
operate, admin or worker; # starts a comment), and from KLAXON_TOKEN, an admin token named
"admin". Requests present one as "Authorization: Bearer SECRET"; what it does is
recorded under its name. Without any token every request is allowed, so the server
then listens on a loopback address only.

The server speaks plain HTTP, without TLS. To serve other machines, put a reverse proxy
that terminates TLS in front of it (docs/reverse-proxy.md) and give --insecure-behind-proxy;
without that flag a non-loopback --addr is refused, since tokens would cross the network in
clear text. A proxy on this machine reaches a server without tokens over loopback: give the
server tokens whenever a proxy serves it to others.

Web pages of other sites cannot drive the server: request bodies must be sent as
Content-Type: application/json, a state-changing request from a browser must come from the
server's own origin, and a server without tokens (or one given --host) answers only
requests addressed to localhost, an IP address or a --host name, so a name rebound to this
machine reaches nothing. Give --host the name a reverse proxy forwards, e.g. --host klaxon.example.com.

The server evaluates alert rules every --alert-interval: the built-in ones, or those of
--alert-rules FILE (see docs/alerts.md), and posts their notifications to the file's
webhooks. It prints the rules in effect when it starts; klaxon alerts lists the alerts.

With --channels FILE the server delivers the dead-letter, breaker and alert notifications
of the file's channels to its webhook, Slack and JSON-template targets, retrying each
target with backoff; several servers on one database deliver each notification once.
klaxon channels check FILE checks a file; docs/notifications.md describes it.

With --retention FILE the server applies retention rules every interval of the file (1h by
default): each deletes the runs that ended more than its older_than ago, of its statuses and
workflows, in bounded batches recorded in the audit log by actor "retention", exactly as
klaxon retention apply would, and never a run with an open dead-letter entry or not ended.
A bad file is refused at start, naming the rule and the field, before the database is
opened. Several servers on one database may apply the same file: a batch deletes only the
runs still there, so each run is deleted and recorded once. klaxon retention check FILE
checks a file; docs/retention.md describes it.

With --redaction FILE the server masks, for read and operate tokens, the JSON paths and
patterns the file gives by workflow ("*" for every workflow) in the API, the dashboard and
the notifications it delivers, on top of the rules each workflow's registration declares; admin and worker tokens see the values intact. No
registration can drop the file's rules. A bad file is refused at start, naming the workflow,
line and path or pattern, before the database is opened. klaxon redaction check FILE checks
a file; docs/redaction.md describes it.

The server fires the database's schedules (klaxon schedules, docs/schedules.md), as every
started Go worker does: each tick enqueues one run whichever of them fires it first.`,
		Example: `  klaxon server --db klaxon.db
  klaxon server --db klaxon.db --alert-rules /etc/klaxon/alerts.yml --alert-interval 1m
  klaxon server --db klaxon.db --channels /etc/klaxon/channels.yml
  klaxon server --db klaxon.db --retention /etc/klaxon/retention.yml
  klaxon server --db klaxon.db --redaction /etc/klaxon/redaction.yml
  KLAXON_TOKEN=$(openssl rand -hex 24) klaxon server --db postgres://klaxon@db/klaxon --addr 127.0.0.1:7070 --host klaxon.example.com
  klaxon server --tokens /etc/klaxon/tokens --addr 10.0.0.5:7070 --insecure-behind-proxy  # TLS ends at the proxy`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			configured, err := klaxonhttp.LoadTokens(tokensFile, m.Getenv)
			if err != nil {
				return err
			}
			tokens, err := klaxonhttp.NewTokens(configured...)
			if err != nil {
				return err
			}
			if warning := klaxonhttp.TokenFileWarning(tokensFile); warning != "" {
				fmt.Fprintln(m.Stderr, "klaxon server: warning:", warning)
			}
			// Refuse a bad address or rules file before the database is opened
			// or created.
			if err := klaxonhttp.CheckAddr(addr, tokens.Len() > 0); err != nil {
				return &usageError{err}
			}
			if err := klaxonhttp.CheckPlainHTTP(addr, behindProxy); err != nil {
				return &usageError{err}
			}
			if alertInterval < time.Second {
				return &usageError{fmt.Errorf("--alert-interval %s: give at least 1s", alertInterval)}
			}
			alerts := alert.DefaultConfig()
			if alertRules != "" {
				if alerts, err = alert.LoadFile(alertRules, m.Getenv); err != nil {
					return err
				}
			}
			channels, err := loadChannels(channelsFile, alerts, m.Getenv)
			if err != nil {
				return err
			}
			var retention *retentionFile
			if retentionPath != "" {
				if retention, err = loadRetentionFile(retentionPath); err != nil {
					return err
				}
			}
			var redaction *redactionFile
			if redactionPath != "" {
				if redaction, err = loadRedactionFile(redactionPath); err != nil {
					return err
				}
			}
			st, err := openStore(ctx, m.dbURL, openToWrite)
			if err != nil {
				return err
			}
			defer st.Close()
			logger := slog.New(slog.NewTextHandler(m.Stderr, nil))
			// Runs worked over the worker protocol are judged in this
			// process: their step, attempt and spend metrics are counted
			// here, each request by the one server that handled it, so that
			// Prometheus sums several servers without counting twice.
			registry := prometheus.NewRegistry()
			config := &klaxon.Config{Logger: logger, Redaction: redaction.policy()}
			if _, err := metrics.Instrument(config, registry); err != nil {
				return err
			}
			client, err := klaxon.NewClient(st, config)
			if err != nil {
				return err
			}
			workers, err := remoteWorkers(client)
			if err != nil {
				return err
			}
			server, err := klaxonhttp.NewServer(klaxonhttp.Config{
				Client: client, Tokens: tokens, Logger: logger, Metrics: metricsHandler(registry, st, logger),
				Dashboard: dashboard.Handler(), Hosts: hosts, Workers: workers,
			})
			if err != nil {
				return err
			}
			serveCtx, stopAlerts := context.WithCancel(ctx)
			var alerting sync.WaitGroup
			defer func() {
				stopAlerts()
				alerting.Wait()
			}()
			return server.ListenAndServe(serveCtx, addr, func(url string) {
				access := fmt.Sprintf("%d access token(s)", tokens.Len())
				if tokens.Len() == 0 {
					access = "no access tokens: this machine only"
				}
				fmt.Fprintf(m.Stdout, "klaxon server: %s on %s (%s); dashboard %s/, API %s%s, OpenAPI %s%s, metrics %s%s\n",
					url, st.Name(), access, url, url, klaxonhttp.APIPrefix, url, klaxonhttp.OpenAPIPath, url, klaxonhttp.MetricsPath)
				source := "built-in"
				if alertRules != "" {
					source = alertRules
				}
				fmt.Fprintf(m.Stdout, "alert rules (%s), evaluated every %s:\n", source, alertInterval)
				printAlertConfig(m, alerts)
				evaluator := alert.NewEvaluator(st, alerts, nil, logger)
				notifier := alert.NewNotifier(st, alerts, alert.NotifierOptions{Holder: alertHolder(), Logger: logger})
				alerting.Go(func() { evaluator.Run(serveCtx, alertInterval) })
				alerting.Go(func() { notifier.Run(serveCtx) })
				printServerRedaction(m.Stdout, redaction)
				startChannels(serveCtx, &alerting, st, channels, redaction.policy(), m.Stdout, logger)
				startRetention(serveCtx, &alerting, client, retention, m.Stdout, m.Stderr, logger)
				// Schedules fire here too, so that a deployment whose workers
				// are all Python or TypeScript has its schedules fired.
				alerting.Go(func() { _ = client.RunSchedules(serveCtx) })
			})
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&addr, "addr", "127.0.0.1:7070", "address to listen on; a non-loopback one needs access tokens")
	flags.StringVar(&alertRules, "alert-rules", "", "YAML file of alert rules and their webhook targets (default: the built-in rules, notifying nobody)")
	flags.StringVar(&channelsFile, "channels", "", "YAML file mapping notification channels to webhook, Slack and template targets (see klaxon channels check)")
	flags.StringVar(&redactionPath, "redaction", "", "YAML file of redaction rules by workflow, masked for tokens below admin on top of the workflows' own (see klaxon redaction check)")
	flags.StringVar(&retentionPath, "retention", "", "YAML file of retention rules applied periodically, as klaxon retention apply would (see klaxon retention check)")
	flags.DurationVar(&alertInterval, "alert-interval", alert.DefaultInterval, "how often to evaluate the alert rules")
	flags.BoolVar(&behindProxy, "insecure-behind-proxy", false, "allow a non-loopback --addr for plain HTTP: a reverse proxy in front terminates TLS")
	flags.StringArrayVar(&hosts, "host", nil, "a name the server is reached by besides localhost and IP addresses (repeatable); requests to other names are refused")
	flags.StringVar(&tokensFile, "tokens", "", `file of access tokens, one "NAME SCOPE SECRET" a line (also env KLAXON_TOKEN: one admin token)`)
	return cmd
}

// alertHolder names this server's alert notifier in the outbox's claims.
func alertHolder() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("klaxon-server/%s/%d/%s", host, os.Getpid(), ulid.Make())
}

// metricsHandler serves a registry, with the store's counts and the
// process's Go and process metrics added to what it holds already (the
// demo's workers' own metrics).
func metricsHandler(registry *prometheus.Registry, st metrics.Storage, logger *slog.Logger) http.Handler {
	registry.MustRegister(
		metrics.NewStoreCollector(st, 0),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return promhttp.HandlerFor(registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError), ErrorHandling: promhttp.ContinueOnError,
	})
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// backend is what the runs, dlq, breaker, outbox, alerts, enqueue, stats and
// workers commands act on: the database itself (--db) or a server over it
// (--server). Both answer with the same types and the same klaxontype
// sentinel errors, so each command has one code path and prints the same
// thing either way.
type backend interface {
	// Name is how messages name where the command looked: the database, or
	// the server's URL.
	Name() string
	Close() error

	// Runs lists runs, newest first; params.Limit is how many at most.
	Runs(ctx context.Context, params *store.RunListParams) ([]*klaxontype.Run, error)
	// Run returns a run with its step log, attempts, event log and manifest.
	Run(ctx context.Context, id string) (*runDetail, error)
	Cancel(ctx context.Context, id, reason, actor string) (*klaxontype.Run, error)
	// Enqueue creates a run, or returns the run its idempotency key already
	// created.
	Enqueue(ctx context.Context, request *enqueueRequest, actor string) (*klaxon.EnqueueResult, error)
	// Signal sends a signal to a run; key, when set, is its idempotency key.
	Signal(ctx context.Context, runID, name string, payload []byte, key, actor string) (*klaxon.SignalResult, error)
	// SignalEntity sends a signal to the runs labelled with an entity.
	SignalEntity(ctx context.Context, entityKey, entityValue, name string, payload []byte, key, actor string) ([]*klaxon.SignalResult, error)
	// Approvals lists the approval requests waiting for a decision, oldest
	// first.
	Approvals(ctx context.Context, limit int) ([]*klaxontype.Wait, error)
	// DecideApproval approves or rejects a run's approval request.
	DecideApproval(ctx context.Context, runID, name string, decision klaxon.Decision, actor string) (*klaxontype.ApprovalDecision, error)
	// Workflows names the workflows registered in the store.
	Workflows(ctx context.Context) ([]string, error)

	// DeadLetters lists entries, newest first; params.Limit is how many at
	// most.
	DeadLetters(ctx context.Context, params *klaxon.DeadLetterFilter) ([]*klaxontype.DeadLetter, error)
	DeadLetter(ctx context.Context, id string) (*klaxontype.DeadLetter, error)
	PlanReplay(ctx context.Context, id string, options klaxon.ReplayOptions) (*klaxon.ReplayPlan, error)
	Replay(ctx context.Context, id string, options klaxon.ReplayOptions) (*klaxontype.DeadLetter, error)
	// ReplayMatching replays (or with dryRun lists) the open entries matching
	// params, which has no states.
	ReplayMatching(ctx context.Context, params *klaxon.DeadLetterFilter, options klaxon.ReplayOptions, dryRun bool) (*klaxon.BulkReplayResult, error)
	Resolve(ctx context.Context, id, step string, output []byte, actor string) (*klaxontype.DeadLetter, error)
	Discard(ctx context.Context, id, reason, actor string) (*klaxontype.DeadLetter, error)
	// DiscardMatching discards (or with dryRun lists) the open entries
	// matching the filter.
	DiscardMatching(ctx context.Context, params *klaxon.DeadLetterFilter, reason, actor string, dryRun bool) (*klaxon.BulkDiscardResult, error)
	PurgeDeadLetters(ctx context.Context, params *klaxon.DeadLetterFilter, actor string) (int, error)

	Breakers(ctx context.Context) ([]*klaxontype.Breaker, error)
	ResetBreaker(ctx context.Context, workflow, actor string) error

	// PendingNotifications sums up the outbox by channel and kind.
	PendingNotifications(ctx context.Context) ([]*klaxon.OutboxSummary, error)
	// GiveUpNotifications gives up a channel's pending notifications and
	// returns how many.
	GiveUpNotifications(ctx context.Context, channel, reason, actor string) (int, error)

	// Alerts lists alerts, newest first: firing, resolved in the last day,
	// or both.
	Alerts(ctx context.Context, state klaxonhttp.AlertStateFilter) ([]*klaxontype.Alert, error)
	// Audit lists the audit log, newest first, up to filter.Limit records.
	Audit(ctx context.Context, filter *klaxon.AuditFilter) ([]*klaxontype.AuditRecord, error)
	// Workers lists the workers registry, the most recently seen first, up
	// to limit workers.
	Workers(ctx context.Context, limit int) ([]*klaxontype.Worker, error)
	// Stats returns the time series of runs, dead letters, cost, tokens and
	// retries.
	Stats(ctx context.Context, query klaxon.StatsQuery) (*klaxontype.Stats, error)
}

// enqueueRequest is a run to enqueue, as the enqueue command reads it.
type enqueueRequest struct {
	Workflow       string
	Input          json.RawMessage
	IdempotencyKey string
	Entities       map[string]string
	// Priority is nil for the workflow's default.
	Priority *int
}

// addServerFlags gives a command group --server and --token, read from
// KLAXON_SERVER and KLAXON_TOKEN by default.
func (m *Main) addServerFlags(cmd *cobra.Command) {
	flags := cmd.PersistentFlags()
	flags.StringVar(&m.serverURL, "server", m.Getenv("KLAXON_SERVER"),
		"act through the Klaxon server at this URL instead of the database (env KLAXON_SERVER)")
	flags.StringVar(&m.token, "token", m.Getenv("KLAXON_TOKEN"),
		"access token to present to --server (env KLAXON_TOKEN)")
	// The default is a secret: help must not print it.
	flags.Lookup("token").DefValue = ""
}

// viaServer reports whether the command acts through a server. An explicit
// --db wins over KLAXON_SERVER from the environment; both flags at once are a
// mistake.
func (m *Main) viaServer(cmd *cobra.Command) (bool, error) {
	serverGiven := cmd.Flags().Changed("server")
	if serverGiven && cmd.Flags().Changed("db") {
		return false, &usageError{fmt.Errorf("give --server or --db, not both: --db is read by the server, not by this command")}
	}
	if m.serverURL == "" {
		if cmd.Flags().Changed("token") {
			return false, &usageError{fmt.Errorf("--token is presented to a server: give --server URL too (or KLAXON_SERVER)")}
		}
		return false, nil
	}
	if !serverGiven && cmd.Flags().Changed("db") {
		return false, nil
	}
	return true, nil
}

// openBackend opens the database, or checks the server URL, for a command.
// Opening the database refuses one that does not exist or has an older
// schema: a typo in --db must not leave an empty database behind.
func (m *Main) openBackend(cmd *cobra.Command) (backend, error) {
	server, err := m.viaServer(cmd)
	if err != nil {
		return nil, err
	}
	if server {
		return newServerBackend(m.serverURL, m.token)
	}
	st, err := openStore(cmd.Context(), m.dbURL, openToRead)
	if err != nil {
		return nil, err
	}
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &storeBackend{database: st, client: client}, nil
}

// actor is who the event log records for an action taken with --actor flag:
// through a server it is the token's name, which the server decides, so an
// --actor there would be silently ignored and is refused instead.
func (m *Main) actor(cmd *cobra.Command, flag string) (string, error) {
	server, err := m.viaServer(cmd)
	if err != nil {
		return "", err
	}
	if server {
		if strings.TrimSpace(flag) != "" {
			return "", &usageError{fmt.Errorf("--actor is for --db: a server records the name of the token you present")}
		}
		return "", nil
	}
	return actorName(flag), nil
}

// checkServerURL refuses anything but an http or https URL with a host,
// without ever printing a password it may carry.
func checkServerURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &usageError{fmt.Errorf("--server is not a URL (http://host:port): %v", redactParseError(err))}
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &usageError{fmt.Errorf("--server %q is not an http:// or https:// URL with a host", u.Redacted())}
	}
	return u, nil
}

// redactParseError keeps the reason of a URL parse error but not the URL,
// which may hold a password.
func redactParseError(err error) error {
	if parseErr, ok := err.(*url.Error); ok {
		return parseErr.Err
	}
	return err
}

// Package http serves Klaxon's HTTP API over a klaxon.Client, and holds the
// typed Go client of that API which the CLI uses in its --server mode.
//
// It is an adapter that nothing imports but commands. It may import only the
// standard library, the root package, klaxontype, store, protocol, redact,
// github.com/danielgtaylor/huma/v2 and github.com/oklog/ulid/v2. The API is declared with huma, so that the
// OpenAPI document served at /api/v1/openapi.json is generated from the same
// Go types the handlers decode and encode.
package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/store"
)

// DefaultMaxBodyBytes is the largest request body accepted unless
// Config.MaxBodyBytes says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// APIPrefix is where the API's operations live.
const APIPrefix = "/api/v1"

// OpenAPIPath is where the OpenAPI 3 document of the API is served.
const OpenAPIPath = APIPrefix + "/openapi.json"

// Config configures a Server.
type Config struct {
	// Client is what the server acts through. It needs a store, not the
	// workflows' code: workers live in other processes.
	Client *klaxon.Client
	// Tokens are the access tokens. Without any, every request acts as
	// "anonymous" with every scope, so the server must only be reachable
	// from this machine: ListenAndServe refuses a non-loopback address and
	// the handler refuses requests from other machines.
	Tokens *Tokens
	// MaxBodyBytes caps request bodies; default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives errors the server could not map to a client's mistake;
	// default none.
	Logger *slog.Logger
	// Metrics, when set, is served at MetricsPath (GET /metrics): a
	// Prometheus handler, such as promhttp's over a registry holding
	// metrics.StoreCollector.
	Metrics http.Handler
	// Dashboard, when set, serves every path outside the API, /healthz,
	// /readyz and /metrics: the web user interface (package dashboard),
	// whose pages call the API with the user's token. Without it those
	// paths are 404 problems.
	Dashboard http.Handler
	// Hosts are the names the server is reached by, besides localhost and
	// IP addresses (a reverse proxy's public name, say). A server without
	// tokens, or with Hosts, refuses requests whose Host header names none
	// of them, so that a web page cannot reach it by rebinding a name of its
	// own to this machine.
	Hosts []string
	// MaxConnsPerClient bounds the open connections of one client address
	// when the server listens itself (ListenAndServe); default
	// DefaultMaxConnsPerClient.
	MaxConnsPerClient int
	// Workers, when set, serves the worker protocol under
	// /api/v1/worker/ (docs/worker-protocol.md), for tokens of scope
	// worker.
	Workers *klaxon.RemoteWorkers
}

// Server is Klaxon's HTTP API.
type Server struct {
	client *klaxon.Client
	// runs, reports and alerts are the parts of the client's store that the
	// API reads where the client has no method of its own.
	runs         store.Runs
	reports      store.Reports
	alerts       store.Alerts
	audit        store.Audit
	workers      *klaxon.RemoteWorkers
	tokens       *Tokens
	maxBodyBytes int64
	logger       *slog.Logger
	api          huma.API
	handler      http.Handler
	routes       []string
	// hosts are Config.Hosts; checkHost is set when the Host header is
	// checked against them.
	hosts     []string
	checkHost bool
	// maxConnsPerClient bounds one client address's connections.
	maxConnsPerClient int
	// authFailures logs failed authentications.
	authFailures *authFailureLog
}

// NewServer builds the API's routes over a client.
func NewServer(config Config) (*Server, error) {
	if config.Client == nil {
		return nil, errors.New("klaxon http: NewServer needs a client")
	}
	st := config.Client.Store()
	s := &Server{
		client: config.Client, runs: st, reports: st, alerts: st, audit: st, workers: config.Workers,
		tokens: config.Tokens, maxBodyBytes: config.MaxBodyBytes, logger: config.Logger,
		hosts: config.Hosts, checkHost: config.Tokens.Len() == 0 || len(config.Hosts) > 0,
		maxConnsPerClient: config.MaxConnsPerClient,
	}
	if s.maxConnsPerClient <= 0 {
		s.maxConnsPerClient = DefaultMaxConnsPerClient
	}
	if s.maxBodyBytes <= 0 {
		s.maxBodyBytes = DefaultMaxBodyBytes
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.authFailures = &authFailureLog{logger: s.logger, now: time.Now}
	mux := http.NewServeMux()
	s.api = humago.New(mux, apiConfig())
	s.api.UseMiddleware(s.refuseUnwantedBody, s.refuseRepeatedQuery, s.authorize)
	s.registerHealth()
	s.registerRuns()
	s.registerFamily()
	s.registerDeadLetters()
	s.registerWorkflows()
	s.registerStats()
	s.registerAdmin()
	s.registerTokens()
	s.registerAlerts()
	s.registerWhoAmI()
	s.registerOutbox()
	s.registerDeadLetterGroups()
	s.registerAudit()
	s.registerWorkers()
	s.registerSchedules()
	s.registerRateLimits()
	s.registerWorkerProtocol()
	s.registerWaits()
	if config.Metrics != nil {
		s.serveMetrics(mux, config.Metrics)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if config.Dashboard != nil && r.URL.Path != APIPrefix && !strings.HasPrefix(r.URL.Path, APIPrefix+"/") {
			config.Dashboard.ServeHTTP(w, r)
			return
		}
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("no route %s %s: the API is described at %s", r.Method, r.URL.Path, OpenAPIPath))
	})
	s.handler = s.guardBrowsers(mux)
	if s.tokens.Len() == 0 {
		s.handler = loopbackOnly(s.handler)
	}
	return s, nil
}

// apiConfig is huma's default configuration without what would make the
// responses differ from the Go types ($schema fields and Link headers) or
// serve more than the API (docs and schema pages), and with JSON decoded
// strictly.
func apiConfig() huma.Config {
	config := huma.DefaultConfig("Klaxon", "v1")
	config.Info.Description = "Durable execution for AI-agent jobs: enqueue runs, inspect them, and act on the dead-letter queue. " +
		"Every error is application/problem+json. A workflow's redaction rule masks its runs' payloads as \"[redacted]\" " +
		"for tokens below admin (docs/redaction.md); an edited payload still holding the marker is refused with 422."
	config.CreateHooks = nil
	config.DocsPath = ""
	config.SchemasPath = ""
	config.OpenAPIPath = strings.TrimSuffix(OpenAPIPath, ".json")
	config.Formats = map[string]huma.Format{"application/json": strictJSON, "json": strictJSON}
	// A misspelt filter (?stauts=dead) must not quietly list everything.
	config.RejectUnknownQueryParameters = true
	config.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "An access token: Authorization: Bearer SECRET. Scopes: read < operate < admin."},
	}
	registerSchemaAliases(config.Components.Schemas)
	config.Transformers = append(config.Transformers, withoutBodyValues)
	return config
}

// withoutBodyValues drops, from huma's validation problems, the values it
// echoes back from the request body: a run's input can hold a customer's
// data or a secret, which an error response (and every log and proxy that
// keeps one) should not repeat. The location and message still name the
// problem; values from the query string, which the caller typed as a filter,
// stay.
func withoutBodyValues(_ huma.Context, _ string, v any) (any, error) {
	if problem, ok := v.(*huma.ErrorModel); ok {
		for _, detail := range problem.Errors {
			if detail != nil && strings.HasPrefix(detail.Location, "body") {
				detail.Value = nil
			}
		}
	}
	return v, nil
}

// Handler serves the API.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes lists the routes the server serves, as "METHOD /path", besides the
// OpenAPI document.
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

// ListenAndServe serves on addr until ctx ends, then shuts down gracefully,
// letting requests under way finish within a few seconds. It calls listening
// with the server's base URL once the address is bound. Every read and write
// of a connection has a deadline, and one client address holds at most
// Config.MaxConnsPerClient connections: a further one is closed at once.
func (s *Server) ListenAndServe(ctx context.Context, addr string, listening func(url string)) error {
	if err := CheckAddr(addr, s.tokens.Len() > 0); err != nil {
		return err
	}
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	listener = limitPerClient(listener, s.maxConnsPerClient)
	server := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if listening != nil {
		listening("http://" + listener.Addr().String())
	}
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loopbackOnly refuses requests from other machines, for a server without
// tokens that someone mounted on a listener of their own.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil || !isLoopbackHost(host) {
			writeProblem(w, http.StatusForbidden, "this server has no access tokens and answers this machine only")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeProblem answers outside huma (no route, not loopback) in the same
// application/problem+json shape as huma's errors.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = strictJSON.Marshal(w, &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: detail})
}

// actorKey carries the acting token's name in a request's context.
type actorKey struct{}

// actor is who the request acts as: the token's name, or "anonymous" on a
// server without tokens.
func actor(ctx context.Context) string {
	if name, ok := ctx.Value(actorKey{}).(string); ok {
		return name
	}
	return "anonymous"
}

// scopeKey is where an operation's required scope is kept in its metadata.
const scopeKey = "klaxon-scope"

// authorize lets a request through when its bearer token has the scope its
// operation needs, recording the token's name as the actor.
func (s *Server) authorize(ctx huma.Context, next func(huma.Context)) {
	required, _ := ctx.Operation().Metadata[scopeKey].(Scope)
	if required == ScopeAdmin {
		// Every use of an admin endpoint is audited, whatever came of it.
		inner := next
		next = func(ctx huma.Context) {
			inner(ctx)
			s.auditAdminRequest(ctx)
		}
	}
	if required == ScopeNone || s.tokens.Len() == 0 {
		next(ctx)
		return
	}
	scheme, secret, _ := strings.Cut(strings.TrimSpace(ctx.Header("Authorization")), " ")
	secret = strings.TrimSpace(secret)
	if !strings.EqualFold(scheme, "Bearer") || secret == "" {
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="klaxon"`)
		_ = huma.WriteErr(s.api, ctx, http.StatusUnauthorized, "this operation needs an access token: Authorization: Bearer SECRET")
		return
	}
	name, scope, ok := s.tokens.lookup(secret)
	if !ok {
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="klaxon", error="invalid_token"`)
		s.authFailures.record(ctx.RemoteAddr(), "the token is not one this server knows")
		_ = huma.WriteErr(s.api, ctx, http.StatusUnauthorized, "the access token is not one this server knows")
		return
	}
	if !scope.allows(required) {
		_ = huma.WriteErr(s.api, ctx, http.StatusForbidden,
			fmt.Sprintf("token %q has scope %s; %s %s needs %s", name, scope, ctx.Method(), ctx.Operation().Path, required))
		return
	}
	next(huma.WithValue(huma.WithValue(ctx, actorKey{}, name), scopeCtxKey{}, scope))
}

// register adds an operation that needs a scope, mapping the errors its
// handler returns through the error table.
func register[I, O any](s *Server, scope Scope, op huma.Operation, handler func(context.Context, *I) (*O, error)) {
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata[scopeKey] = scope
	op.MaxBodyBytes = s.maxBodyBytes
	if scope != ScopeNone {
		op.Security = []map[string][]string{{"bearer": {}}}
		op.Description = strings.TrimSpace(op.Description + "\n\nNeeds scope " + scope.String() + ".")
		op.Errors = append(op.Errors, http.StatusUnauthorized, http.StatusForbidden)
	}
	if _, hasBody := reflect.TypeFor[I]().FieldByName("Body"); hasBody {
		// Malformed JSON, and a body over the limit.
		op.Errors = append(op.Errors, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
	}
	s.routes = append(s.routes, op.Method+" "+op.Path)
	huma.Register(s.api, op, func(ctx context.Context, input *I) (*O, error) {
		if err := refuseUnstorableText(input); err != nil {
			return nil, err
		}
		output, err := handler(ctx, input)
		if err != nil {
			var statusErr huma.StatusError
			if errors.As(err, &statusErr) {
				return nil, err
			}
			return nil, s.problem(err)
		}
		return output, nil
	})
}

// healthOutput says the server, or its store, is up.
type healthOutput struct {
	Body struct {
		Status string `json:"status" example:"ok"`
	}
}

func (s *Server) registerHealth() {
	register(s, ScopeNone, huma.Operation{
		OperationID: "healthz", Method: http.MethodGet, Path: "/healthz",
		Summary: "The server is up", Tags: []string{"health"},
	}, func(context.Context, *struct{}) (*healthOutput, error) {
		output := &healthOutput{}
		output.Body.Status = "ok"
		return output, nil
	})
	register(s, ScopeNone, huma.Operation{
		OperationID: "readyz", Method: http.MethodGet, Path: "/readyz",
		Summary: "The store answers", Tags: []string{"health"},
		Errors: []int{http.StatusServiceUnavailable},
	}, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := s.runs.WorkflowList(ctx); err != nil {
			s.logger.Warn("readiness check failed", "error", err)
			return nil, huma.Error503ServiceUnavailable("the store does not answer")
		}
		output := &healthOutput{}
		output.Body.Status = "ok"
		return output, nil
	})
}

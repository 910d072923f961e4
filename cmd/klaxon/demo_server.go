package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/dashboard"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/store"
)

// defaultDemoAddr is where the demo serves the HTTP API unless told otherwise:
// the same address as klaxon server's, so the same URLs work against either.
const defaultDemoAddr = "127.0.0.1:7070"

// checkDemoAddr refuses, before anything is opened, an address the demo's
// server may not listen on: it has no access tokens, so loopback only.
func checkDemoAddr(addr string) error {
	err := klaxonhttp.CheckAddr(addr, false)
	if errors.Is(err, klaxonhttp.ErrNoTokensNonLoopback) {
		return fmt.Errorf("--addr %s: the demo's server has no access tokens, so it listens on this machine only "+
			"(127.0.0.1, ::1 or localhost); run klaxon server with tokens to serve other machines", addr)
	}
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	return nil
}

// demoServer is the HTTP API the demo serves over its store while it runs.
type demoServer struct {
	// URL is the server's base URL, with the port it really got.
	URL    string
	cancel context.CancelFunc
	served chan error
	// alerting is the evaluator of the built-in alert rules, so the
	// dashboard's alerts show what the demo's failures raise, and the
	// deliverer of its notifications to its sink.
	alerting sync.WaitGroup
}

// startDemoServer serves the API on addr over st, without tokens, and returns
// once the address is bound. A busy or otherwise unusable address is an error
// that names it and the ways out, so the demo stops before it enqueues
// anything rather than running without the server it announced.
func startDemoServer(ctx context.Context, st store.Store, addr string, registry *prometheus.Registry, logger *slog.Logger) (*demoServer, error) {
	// The server only reads and acts on the store; it is never started as a
	// worker, so it works no runs of its own.
	client, err := klaxon.NewClient(st, &klaxon.Config{Logger: logger})
	if err != nil {
		return nil, err
	}
	workers, err := remoteWorkers(client)
	if err != nil {
		return nil, err
	}
	server, err := klaxonhttp.NewServer(klaxonhttp.Config{
		Client: client, Logger: logger, Metrics: metricsHandler(registry, st, logger), Dashboard: dashboard.Handler(),
		Workers: workers,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &demoServer{cancel: cancel, served: make(chan error, 1)}
	listening := make(chan string, 1)
	go func() {
		s.served <- server.ListenAndServe(ctx, addr, func(url string) { listening <- url })
	}()
	select {
	case s.URL = <-listening:
		// The built-in rules notify nobody; their alerts are seen on the
		// dashboard and with klaxon alerts.
		evaluator := alert.NewEvaluator(st, alert.DefaultConfig(), nil, logger)
		s.alerting.Go(func() { evaluator.Run(ctx, alert.DefaultInterval) })
		// Its notifications go to a webhook sink of its own, so that the
		// dashboard shows them delivered.
		sink, err := startDemoSink(ctx, st, s.URL, logger)
		if err != nil {
			cancel()
			s.alerting.Wait()
			<-s.served
			return nil, err
		}
		s.alerting.Go(func() { sink.Run(ctx) })
		return s, nil
	case err := <-s.served:
		cancel()
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("cannot serve the HTTP API on %s: the address is already in use "+
				"(another klaxon demo or server?); pass --addr with a free address (127.0.0.1:0 picks one) or --no-server", addr)
		}
		return nil, fmt.Errorf("cannot serve the HTTP API on %s: %w; pass --addr with another address or --no-server", addr, err)
	}
}

// Stop shuts the server down, letting requests under way finish, and reports
// what ended it if not the shutdown.
func (s *demoServer) Stop() error {
	s.cancel()
	s.alerting.Wait()
	return <-s.served
}

// announce says where the API is, on the demo's progress stream.
func (s *demoServer) announce(w io.Writer) {
	fmt.Fprintf(w, "klaxon demo: dashboard at %s/ and HTTP API at %s (no access tokens: this machine only): runs %s%s/runs, OpenAPI %s%s\n",
		s.URL, s.URL, s.URL, klaxonhttp.APIPrefix, s.URL, klaxonhttp.OpenAPIPath)
}

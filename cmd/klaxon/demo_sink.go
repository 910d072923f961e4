package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/webhook"
)

// demoChannels are the channels the demo's notifications go to: the
// default routing of dead letters, which breakers follow too.
var demoChannels = []string{"review", "ops", "security"}

// demoSink is the demo's stand-in for a team's webhook: an HTTP server on a
// loopback port of its own that takes the demo server's signed
// notifications, checks their signature and keeps a count, so that the
// dashboard shows the demo's dead letters delivered rather than waiting for
// a process that delivers them.
type demoSink struct {
	server    *http.Server
	deliverer *notify.Deliverer
	// Delivered counts the notifications taken.
	Delivered atomic.Int64
}

// startDemoSink starts the sink and a deliverer of the demo's channels to
// it, until ctx ends.
func startDemoSink(ctx context.Context, st notify.Store, dashboardURL string, logger *slog.Logger) (*demoSink, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("the demo's notification sink: %w", err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	sink := &demoSink{}
	sink.server = &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil || !webhook.Verify(secret, body, r.Header.Get(webhook.SignatureHeader)) {
				http.Error(w, "unsigned or unreadable notification", http.StatusUnauthorized)
				return
			}
			sink.Delivered.Add(1)
			logger.Debug("demo notification delivered", "event", r.Header.Get(webhook.EventHeader), "delivery", r.Header.Get(webhook.DeliveryHeader))
		}),
	}
	go func() { _ = sink.server.Serve(listener) }()
	config := &notify.Config{DashboardURL: dashboardURL, AlertAfter: notify.DefaultAlertAfter}
	for _, channel := range demoChannels {
		config.Channels = append(config.Channels, &notify.Channel{Name: channel, Targets: []*notify.Target{{
			Channel: channel, Name: "demo-sink", Type: notify.TargetWebhook, URL: "http://" + listener.Addr().String() + "/",
			Secret: secret, Timeout: 5 * time.Second,
		}}})
	}
	sink.deliverer = notify.New(st, config, notify.Options{Holder: channelsHolder(), Logger: logger})
	return sink, nil
}

// Run delivers until ctx ends, then delivers what is due for up to a few
// seconds more, so that the dead letters of a demo's last runs are not left
// waiting, and stops the sink.
func (s *demoSink) Run(ctx context.Context) {
	s.deliverer.Run(ctx)
	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for drain.Err() == nil {
		if n, err := s.deliverer.DeliverDue(drain); n == 0 || err != nil {
			break
		}
	}
	_ = s.server.Shutdown(drain)
}

package http_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
)

// dialFrom opens a connection to addr from a loopback address of its own
// (all of 127.0.0.0/8 is this machine), so that one test plays several
// clients.
func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 2 * time.Second}
	conn, err := dialer.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, local, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// Slow clients do not hold the server: a client address holding many
// connections that never finish their headers keeps only its share, the
// rest closed at once; a request declaring a body that never comes, to a
// route that takes none, is answered at once; and meanwhile other clients'
// requests are answered. Before, each slow connection was held, and a GET
// with Content-Length and no body was never answered.
func TestSlowClientsDoNotHoldTheServer(t *testing.T) {
	t.Parallel()
	if _, err := net.Listen("tcp", "127.0.0.2:0"); err != nil {
		t.Skipf("SKIP: no loopback address 127.0.0.2 to play a second client from: %v", err)
	}
	f := newFixture(t, false)
	client, err := klaxon.NewClient(f.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	const perClient = 16
	api, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client, MaxConnsPerClient: perClient})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan string, 1)
	served := make(chan error, 1)
	go func() { served <- api.ListenAndServe(ctx, "127.0.0.1:0", func(url string) { listening <- url }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("ListenAndServe: %v", err)
		}
	})
	url := <-listening
	addr := strings.TrimPrefix(url, "http://")

	// 100 connections from one address that never finish their headers.
	var stalled []net.Conn
	for range 100 {
		conn := dialFrom(t, "127.0.0.2", addr)
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n", addr)
		stalled = append(stalled, conn)
	}
	// Requests declaring bodies they never send, to routes that take none.
	var bodiless []net.Conn
	for i := range perClient {
		conn := dialFrom(t, "127.0.0.3", addr)
		if i%2 == 0 {
			fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\nContent-Length: 200000\r\n\r\n", addr)
		} else {
			fmt.Fprintf(conn, "POST /api/v1/breakers/greet/reset HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n{", addr)
		}
		bodiless = append(bodiless, conn)
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	held := 0
	for _, conn := range stalled {
		wg.Go(func() {
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			_, err := conn.Read(make([]byte, 1))
			if errors.Is(err, os.ErrDeadlineExceeded) {
				mu.Lock()
				held++
				mu.Unlock()
			}
		})
	}
	for i, conn := range bodiless {
		wg.Go(func() {
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Errorf("request %d declaring a body it never sends: no answer: %v", i, err)
				return
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("request %d declaring a body to a route that takes none: %d; want 400", i, resp.StatusCode)
			}
		})
	}
	// Meanwhile, another client is answered promptly.
	other := &http.Client{Timeout: 2 * time.Second}
	for _, path := range []string{"/healthz", "/api/v1/workflows"} {
		start := time.Now()
		resp, err := other.Get(url + path)
		if err != nil {
			t.Errorf("GET %s while slow clients hold connections: %v", path, err)
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		t.Logf("GET %s answered in %s", path, time.Since(start))
	}
	wg.Wait()
	if held > perClient {
		t.Errorf("one client address holds %d stalled connections; want at most %d", held, perClient)
	}
}

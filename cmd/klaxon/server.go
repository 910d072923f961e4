package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
)

func (m *Main) serverCommand() *cobra.Command {
	var addr, tokensFile string
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Serve the HTTP API over a database until interrupted",
		Long: `Serve Klaxon's HTTP API under /api/v1, with /healthz, /readyz and the OpenAPI document
at /api/v1/openapi.json. The server works no runs itself: workers run in your programs
against the same database.

Access tokens come from --tokens FILE, one a line "NAME SCOPE SECRET" (SCOPE is read,
operate or admin; # starts a comment), and from KLAXON_TOKEN, an admin token named
"admin". Requests present one as "Authorization: Bearer SECRET"; what it does is
recorded under its name. Without any token every request is allowed, so the server
then listens on a loopback address only.`,
		Example: `  klaxon server --db klaxon.db
  KLAXON_TOKEN=$(openssl rand -hex 24) klaxon server --db postgres://klaxon@db/klaxon --addr 0.0.0.0:7070
  klaxon server --tokens /etc/klaxon/tokens --addr 10.0.0.5:7070`,
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
			// Refuse a bad address before the database is opened or created.
			if err := klaxonhttp.CheckAddr(addr, tokens.Len() > 0); err != nil {
				return &usageError{err}
			}
			st, err := openStore(ctx, m.dbURL, openToWrite)
			if err != nil {
				return err
			}
			defer st.Close()
			logger := slog.New(slog.NewTextHandler(m.Stderr, nil))
			client, err := klaxon.NewClient(st, &klaxon.Config{Logger: logger})
			if err != nil {
				return err
			}
			server, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client, Tokens: tokens, Logger: logger})
			if err != nil {
				return err
			}
			return server.ListenAndServe(ctx, addr, func(url string) {
				access := fmt.Sprintf("%d access token(s)", tokens.Len())
				if tokens.Len() == 0 {
					access = "no access tokens: this machine only"
				}
				fmt.Fprintf(m.Stdout, "klaxon server: %s on %s (%s); API %s%s, OpenAPI %s%s\n",
					url, st.Name(), access, url, klaxonhttp.APIPrefix, url, klaxonhttp.OpenAPIPath)
			})
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&addr, "addr", "127.0.0.1:7070", "address to listen on; a non-loopback one needs access tokens")
	flags.StringVar(&tokensFile, "tokens", "", `file of access tokens, one "NAME SCOPE SECRET" a line (also env KLAXON_TOKEN: one admin token)`)
	return cmd
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// rateLimitBackend is what the ratelimits commands act on: the database
// (through a klaxon.Client) or a server over it.
type rateLimitBackend interface {
	RateLimits(ctx context.Context) ([]*klaxontype.RateLimit, error)
	DeclareRateLimits(ctx context.Context, limits ...klaxontype.RateLimit) error
}

func (b *storeBackend) RateLimits(ctx context.Context) ([]*klaxontype.RateLimit, error) {
	return b.client.RateLimits(ctx)
}

func (b *storeBackend) DeclareRateLimits(ctx context.Context, limits ...klaxontype.RateLimit) error {
	return b.client.DeclareRateLimits(ctx, limits...)
}

func (b *serverBackend) RateLimits(ctx context.Context) ([]*klaxontype.RateLimit, error) {
	return b.client.RateLimits(ctx)
}

func (b *serverBackend) DeclareRateLimits(ctx context.Context, limits ...klaxontype.RateLimit) error {
	return b.client.DeclareRateLimits(ctx, limits...)
}

func (m *Main) openRateLimits(cmd *cobra.Command) (rateLimitBackend, io.Closer, error) {
	b, err := m.openBackend(cmd)
	if err != nil {
		return nil, nil, err
	}
	limits, ok := b.(rateLimitBackend)
	if !ok {
		b.Close()
		return nil, nil, errors.New("this backend cannot manage rate limits")
	}
	return limits, b, nil
}

func (m *Main) rateLimitsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ratelimits",
		Short: "List and declare rate limits shared by every worker of the database",
		Long: `A rate limit grants requests, and optionally model tokens, per period, to every worker of
the database together: a step that would exceed it waits for capacity instead of calling and
getting a 429. llm.Call draws on "provider/model" when such a limit is declared. See
docs/rate-limits.md.`,
		Example: `  klaxon ratelimits set openai/gpt-4o-mini --requests 500 --tokens 200000 --per 1m
  klaxon ratelimits list
  klaxon ratelimits list --json`,
		Args: exactArgs(0, "a subcommand: list or set"),
	}
	m.addServerFlags(cmd)
	cmd.AddCommand(m.rateLimitsListCommand(), m.rateLimitsSetCommand())
	return cmd
}

func (m *Main) rateLimitsListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List rate limits by key, with what each could grant now",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, closer, err := m.openRateLimits(cmd)
			if err != nil {
				return err
			}
			defer closer.Close()
			limits, err := b.RateLimits(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, orEmpty(limits))
			}
			if len(limits) == 0 {
				fmt.Fprintln(m.Stdout, "no rate limits")
				return nil
			}
			table := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(table, "KEY\tREQUESTS\tTOKENS\tPER\tREQUESTS AVAILABLE\tTOKENS AVAILABLE")
			for _, l := range limits {
				tokens, tokensAvailable := "-", "-"
				if l.Tokens > 0 {
					tokens, tokensAvailable = fmt.Sprint(l.Tokens), fmt.Sprint(l.State.TokensAvailable)
				}
				fmt.Fprintf(table, "%s\t%d\t%s\t%s\t%d\t%s\n", l.Key, l.Requests, tokens, l.Per, l.State.RequestsAvailable, tokensAvailable)
			}
			return table.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func (m *Main) rateLimitsSetCommand() *cobra.Command {
	var requests, tokens int64
	var per time.Duration
	cmd := &cobra.Command{
		Use:   "set KEY",
		Short: "Declare a rate limit, or change one keeping what is spent of it",
		Args:  exactArgs(1, "the limit's key, as openai/gpt-4o-mini"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, closer, err := m.openRateLimits(cmd)
			if err != nil {
				return err
			}
			defer closer.Close()
			limit := klaxontype.RateLimit{Key: args[0], Requests: requests, Tokens: tokens, Per: per}
			if err := b.DeclareRateLimits(cmd.Context(), limit); err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "rate limit %s: %d requests", limit.Key, limit.Requests)
			if limit.Tokens > 0 {
				fmt.Fprintf(m.Stdout, " and %d tokens", limit.Tokens)
			}
			fmt.Fprintf(m.Stdout, " per %s\n", limit.Per)
			return nil
		},
	}
	cmd.Flags().Int64Var(&requests, "requests", 0, "requests granted per period (at least 1)")
	cmd.Flags().Int64Var(&tokens, "tokens", 0, "model tokens granted per period (0: no token limit)")
	cmd.Flags().DurationVar(&per, "per", time.Minute, "the period")
	return cmd
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes of the command.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// Main wires the command: its output streams and environment are fields so
// tests can run it in process.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string

	// dbURL is the --db flag, shared by every subcommand.
	dbURL string
	// serverURL and token are --server and --token, of the commands that
	// can act through a server instead of the database.
	serverURL string
	token     string
	// keysFile is --encryption-keys, the key ring's file.
	keysFile string
}

// NewMain returns a Main on the process's streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// usageError marks an error in how the command was called.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

// Run executes the command line and returns the process exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	root := m.rootCommand()
	root.SetArgs(args)
	if m.Stdin != nil {
		root.SetIn(m.Stdin)
	}
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(m.Stderr, errorLine(err))
	var usage *usageError
	if errors.As(err, &usage) {
		return exitUsage
	}
	return exitError
}

func (m *Main) rootCommand() *cobra.Command {
	defaultDB := m.Getenv("KLAXON_DB")
	if defaultDB == "" {
		defaultDB = "klaxon.db"
	}
	root := &cobra.Command{
		Use:   "klaxon",
		Short: "Klaxon: durable execution for AI-agent jobs that never fail silently",
		Long: `Klaxon runs AI-agent jobs durably: every step is checkpointed, completed steps are
never re-run, and every failure ends classified in the dead-letter queue.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&m.dbURL, "db", defaultDB,
		"database: sqlite:///path/to/file.db or a path (env KLAXON_DB)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.PersistentFlags().StringVar(&m.keysFile, "encryption-keys", "",
		"file of the encryption key ring, ID:BASE64 a line, newest last (env KLAXON_ENCRYPTION_KEY_FILE, or the ring itself in KLAXON_ENCRYPTION_KEYS)")
	root.PersistentPreRun = func(cmd *cobra.Command, _ []string) { m.withKeyring(cmd) }
	root.AddCommand(
		m.versionCommand(),
		m.migrateCommand(),
		m.runsCommand(),
		m.approvalsCommand(),
		m.demoCommand(),
		m.dlqCommand(),
		m.breakerCommand(),
		m.outboxCommand(),
		m.alertsCommand(),
		m.channelsCommand(),
		m.serverCommand(),
		m.enqueueCommand(),
		m.statsCommand(),
		m.auditCommand(),
		m.workersCommand(),
		m.schedulesCommand(),
		m.rateLimitsCommand(),
		m.retentionCommand(),
		m.redactionCommand(),
		m.keysCommand(),
	)
	return root
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	encoder := json.NewEncoder(w)
	encoder.SetIndent("", "  ")
	return encoder.Encode(v)
}

// exactArgs is cobra.ExactArgs with a usage error.
// subcommandsOnly refuses any argument to a group of commands, naming its
// subcommands: without it, cobra answers a misspelt subcommand with the help
// text and exit code 0.
func subcommandsOnly(names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return &usageError{fmt.Errorf("unknown command %q for %q (%s)", args[0], cmd.CommandPath(), names)}
		}
		return nil
	}
}

func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return &usageError{fmt.Errorf("%s takes %s, got %d arguments", cmd.CommandPath(), names, len(args))}
		}
		return nil
	}
}

// errorLine is how a command's error is printed: after "klaxon: ", once,
// though the library's own errors begin with it too.
func errorLine(err error) string {
	return "klaxon: " + strings.TrimPrefix(err.Error(), "klaxon: ")
}

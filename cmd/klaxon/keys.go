package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/klaxonhq/klaxon/store"
	"github.com/spf13/cobra"
)

// keyringKey carries, in a command's context, how to load the encryption
// key ring: openStore opens every store with it, so that no command can
// read or write a database without the keys it was written with.
type keyringKey struct{}

// withKeyring puts the key ring loader of m in the command's context; the
// ring is loaded only by a command that opens a database, so that a bad key
// file does not stop `klaxon version`.
func (m *Main) withKeyring(cmd *cobra.Command) {
	cmd.SetContext(context.WithValue(cmd.Context(), keyringKey{}, m.loadKeyring))
}

// keyringOf loads the ring the command was given; nil when none was.
func keyringOf(ctx context.Context) (*store.Keyring, error) {
	load, _ := ctx.Value(keyringKey{}).(func() (*store.Keyring, error))
	if load == nil {
		return nil, nil
	}
	return load()
}

// loadKeyring reads the ring from --encryption-keys FILE, else
// KLAXON_ENCRYPTION_KEY_FILE, else KLAXON_ENCRYPTION_KEYS; nil when none is
// set. Giving both a file and KLAXON_ENCRYPTION_KEYS is refused: which one
// wins would be a guess. Its errors name the source and never quote a
// secret.
func (m *Main) loadKeyring() (*store.Keyring, error) {
	file, source := m.keysFile, "--encryption-keys"
	if file == "" {
		file, source = m.Getenv("KLAXON_ENCRYPTION_KEY_FILE"), "KLAXON_ENCRYPTION_KEY_FILE"
	}
	inline := m.Getenv("KLAXON_ENCRYPTION_KEYS")
	switch {
	case file != "" && inline != "":
		return nil, &usageError{fmt.Errorf("both %s and KLAXON_ENCRYPTION_KEYS give encryption keys: give one", source)}
	case file != "":
		info, err := os.Stat(file)
		if err != nil {
			return nil, fmt.Errorf("encryption key file %s (%s): %w", file, source, errors.Unwrap(err))
		}
		if info.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(m.Stderr, "klaxon: warning: encryption key file %s is readable by other users (mode %v): chmod 600 it\n", file, info.Mode().Perm())
		}
		text, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("encryption key file %s (%s): %w", file, source, err)
		}
		ring, err := store.ParseKeyring(string(text))
		if err != nil {
			return nil, fmt.Errorf("encryption key file %s (%s): %w", file, source, err)
		}
		return ring, nil
	case inline != "":
		ring, err := store.ParseKeyring(inline)
		if err != nil {
			return nil, fmt.Errorf("KLAXON_ENCRYPTION_KEYS: %w", err)
		}
		return ring, nil
	}
	return nil, nil
}

func (m *Main) keysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the encryption keys of data at rest",
		Long: `Klaxon encrypts run inputs and outputs, step outputs (recorded model responses among them),
dead-letter inputs, signal payloads and schedule inputs with AES-256-GCM when it is given a
key ring: KLAXON_ENCRYPTION_KEYS="id1:BASE64,id2:BASE64" or a key file (--encryption-keys FILE or
KLAXON_ENCRYPTION_KEY_FILE) with one ID:BASE64 a line, newest last. The newest key encrypts new
values; every key of the ring decrypts. See docs/encryption.md.`,
		Args: subcommandsOnly("generate, check, rotate"),
	}
	cmd.AddCommand(m.keysGenerateCommand(), m.keysCheckCommand(), m.keysRotateCommand())
	return cmd
}

func (m *Main) keysGenerateCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "generate ID",
		Short:   "Print a new random key as ID:BASE64, to add to the ring as its newest key",
		Example: `  klaxon keys generate 2026-12 >> /etc/klaxon/keys && chmod 600 /etc/klaxon/keys`,
		Args:    exactArgs(1, "a key ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			secret, err := store.GenerateKeySecret()
			if err != nil {
				return err
			}
			line := args[0] + ":" + secret
			// The line must be one a ring accepts, ID included.
			if _, err := store.ParseKeyring(line); err != nil {
				return &usageError{err}
			}
			fmt.Fprintln(m.Stdout, line)
			return nil
		},
	}
}

func (m *Main) keysCheckCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check the key ring against the database: every key it needs given, none wrong",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ring, err := keyringOf(cmd.Context())
			if err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), m.dbURL, openToRead)
			if err != nil {
				return err
			}
			defer st.Close()
			checks, err := st.KeysList(cmd.Context())
			if err != nil {
				return err
			}
			type keyState struct {
				ID      string `json:"id"`
				Given   bool   `json:"given"`
				Retired bool   `json:"retired"`
				Newest  bool   `json:"newest"`
			}
			states := []keyState{}
			for _, check := range checks {
				states = append(states, keyState{ID: check.ID, Given: ring.Has(check.ID), Retired: check.Retired, Newest: check.ID == ring.Newest()})
			}
			if asJSON {
				return writeJSON(m.Stdout, map[string]any{"database": st.Name(), "newest": ring.Newest(), "keys": states})
			}
			if len(states) == 0 {
				fmt.Fprintf(m.Stdout, "%s: written without encryption keys\n", st.Name())
				return nil
			}
			fmt.Fprintf(m.Stdout, "%s: the key ring opens it; new values are encrypted with %q\n", st.Name(), ring.Newest())
			for _, s := range states {
				note := []string{}
				if s.Retired {
					note = append(note, "retired: may leave the ring")
				} else {
					note = append(note, "needed")
				}
				if !s.Given {
					note = append(note, "not given")
				}
				fmt.Fprintf(m.Stdout, "  %-20s %s\n", s.ID, strings.Join(note, ", "))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (m *Main) keysRotateCommand() *cobra.Command {
	var (
		batchSize int
		pause     time.Duration
		actor     string
		asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Re-encrypt every stored value under the newest key, in batches, beside running servers",
		Long: `Re-encrypt, under the newest key of the ring, every stored value encrypted with an older key
or written before the database had keys, a batch of runs at a time, each batch a short
transaction of its own, while servers and workers keep running. A value the engine rewrites
during the rotation keeps what the engine wrote. Interrupted (Ctrl-C, a crash, SIGKILL), it
is simply run again: values already under the newest key are skipped.

When every value is under the newest key, the older keys are marked retired and the
rotation is recorded in the audit log (keys.rotate): only then may they leave the ring.
Give every server and worker the new ring (new key last) before rotating, so that none
keeps writing under the old key.`,
		Example: `  KLAXON_ENCRYPTION_KEYS="k1:...,k2:..." klaxon keys rotate
  klaxon --encryption-keys /etc/klaxon/keys keys rotate --batch 200 --json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if batchSize < 1 || batchSize > 10000 {
				return &usageError{fmt.Errorf("--batch %d: give 1 to 10000", batchSize)}
			}
			ring, err := keyringOf(cmd.Context())
			if err != nil {
				return err
			}
			if ring == nil {
				return &usageError{errors.New("no encryption keys given: set KLAXON_ENCRYPTION_KEYS or KLAXON_ENCRYPTION_KEY_FILE (or --encryption-keys), newest key last")}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			st, err := openStore(ctx, m.dbURL, openToWrite)
			if err != nil {
				return err
			}
			defer st.Close()
			total := store.KeysRotateBatch{}
			passes := 0
			for {
				passes++
				pass, err := m.rotatePass(ctx, st, batchSize, pause, asJSON, &total)
				if err != nil {
					return fmt.Errorf("%w (re-sealed %d values of %d runs so far; run klaxon keys rotate again to go on)", err, total.Resealed, total.Runs)
				}
				// A value changed during the pass was written by the engine,
				// under the newest key if it has the new ring; another pass
				// makes sure before the older keys are retired.
				if pass.Missed == 0 {
					break
				}
				if passes == 3 {
					return fmt.Errorf("values kept changing under the rotation for 3 passes (%d in the last): run it again when the engine is quieter; no key was retired", pass.Missed)
				}
			}
			retired, err := st.KeysRetire(ctx, &store.KeysRetireParams{Actor: actorName(actor), Runs: total.Runs, Resealed: total.Resealed})
			if err != nil {
				return err
			}
			if asJSON {
				// One line like the progress before it: --json promises JSON
				// lines, which a program reads one at a time.
				return writeJSONLine(m.Stdout, map[string]any{"done": true, "newest": ring.Newest(), "runs": total.Runs, "resealed": total.Resealed, "retired": retired})
			}
			fmt.Fprintf(m.Stdout, "done: %d values of %d runs re-encrypted with %q; retired %s (they may leave the ring)\n",
				total.Resealed, total.Runs, ring.Newest(), keyList(retired))
			return nil
		},
	}
	flags := cmd.Flags()
	flags.IntVar(&batchSize, "batch", 500, "runs per batch (each batch is one transaction)")
	flags.DurationVar(&pause, "pause", 0, "pause between batches, to leave the database to the engine")
	flags.StringVar(&actor, "actor", "", "who rotates, for the audit log (default: your user name)")
	flags.BoolVar(&asJSON, "json", false, "print progress and the result as JSON lines")
	return cmd
}

// rotatePass runs one pass of batches over every run, printing progress.
func (m *Main) rotatePass(ctx context.Context, st *database, batchSize int, pause time.Duration, asJSON bool, total *store.KeysRotateBatch) (*store.KeysRotateBatch, error) {
	pass := &store.KeysRotateBatch{}
	after := ""
	for {
		batch, err := st.KeysRotateBatch(ctx, &store.KeysRotateBatchParams{After: after, Limit: batchSize})
		if err != nil {
			return nil, err
		}
		after = batch.Last
		for _, t := range []*store.KeysRotateBatch{pass, total} {
			t.Runs += batch.Runs
			t.Resealed += batch.Resealed
			t.Missed += batch.Missed
		}
		if asJSON {
			if err := writeJSONLine(m.Stdout, map[string]any{"runs": total.Runs, "resealed": total.Resealed, "missed": pass.Missed, "last_run": after}); err != nil {
				return nil, err
			}
		} else {
			fmt.Fprintf(m.Stdout, "%d runs, %d values re-encrypted (up to run %s)\n", total.Runs, total.Resealed, after)
		}
		if batch.Done {
			return pass, nil
		}
		if pause > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(pause):
			}
		}
	}
}

func keyList(ids []string) string {
	if len(ids) == 0 {
		return "no key"
	}
	return strings.Join(ids, ", ")
}

// writeJSONLine prints v as one line of JSON, for progress a program reads
// as it comes.
func writeJSONLine(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

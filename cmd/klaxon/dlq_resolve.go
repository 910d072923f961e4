package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func (m *Main) dlqResolveCommand() *cobra.Command {
	var (
		step       string
		outputPath string
		actor      string
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "resolve ID --step NAME --output FILE",
		Short: "Supply the output of an entry's failed step by hand; the run continues from there",
		Long: `Resolve an open dead-letter entry by supplying the output its failed step should have
produced, as a JSON file ("-" reads standard input). The output is checked against the
step's output type (see "klaxon dlq show"); the step is recorded as completed by you, the
entry as resolved, and the run becomes pending to continue after that step without running
its completed steps again. --step must name the failed step, so that the output goes where
you meant it to.`,
		Example: `  klaxon dlq resolve 01JB7Q... --step classify --output answer.json
  echo '"invoice"' | klaxon dlq resolve 01JB7Q... --step classify --output -`,
		Args: exactArgs(1, "one entry ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(step) == "" {
				return &usageError{fmt.Errorf("--step is required: the name of the entry's failed step")}
			}
			if outputPath == "" {
				return &usageError{fmt.Errorf("--output is required: a JSON file with the step's output (- for standard input)")}
			}
			output, err := readJSONFile(cmd, "output", outputPath)
			if err != nil {
				return err
			}
			actorName, err := m.actor(cmd, actor)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			b, err := m.openBackend(cmd)
			if err != nil {
				return err
			}
			defer b.Close()
			entry, err := openEntry(ctx, b, args[0])
			if err != nil {
				return err
			}
			resolved, err := b.Resolve(ctx, entry.ID, step, output, actorName)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(m.Stdout, resolved)
			}
			fmt.Fprintf(m.Stdout, "dead-letter entry %s: %s by %s\n", resolved.ID, resolved.State, resolved.ClosedBy)
			fmt.Fprintf(m.Stdout, "  step %s of run %s recorded as completed with the supplied output\n", formatFailedStep(resolved.Step), resolved.RunID)
			fmt.Fprintf(m.Stdout, "  run %s is pending again for a worker of %s, which continues after that step\n", resolved.RunID, resolved.Workflow)
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&step, "step", "", "the entry's failed step (required)")
	flags.StringVar(&outputPath, "output", "", "JSON file with the step's output, - for standard input (required)")
	flags.StringVar(&actor, "actor", "", "who resolves, for the event log (default: your user name); a server records its token's name instead")
	flags.BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

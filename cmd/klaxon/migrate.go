package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// migrateResult is what `klaxon migrate --json` prints.
type migrateResult struct {
	Database      string `json:"database"`
	SchemaVersion int    `json:"schema_version"`
	Applied       []int  `json:"applied"`
}

func (m *Main) migrateCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Create the database or upgrade its schema to this version of klaxon",
		Long: `Create the database, or apply the schema migrations it lacks. A database written by
a newer klaxon is refused and left unchanged.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStore(cmd.Context(), m.dbURL, openToWrite)
			if err != nil {
				return err
			}
			defer st.Close()
			result := migrateResult{Database: st.Name(), SchemaVersion: st.SchemaVersion(), Applied: st.AppliedMigrations()}
			if result.Applied == nil {
				result.Applied = []int{}
			}
			if asJSON {
				return writeJSON(m.Stdout, result)
			}
			if len(result.Applied) == 0 {
				fmt.Fprintf(m.Stdout, "%s: schema already at version %d\n", result.Database, result.SchemaVersion)
				return nil
			}
			fmt.Fprintf(m.Stdout, "%s: applied %d migration(s) %v; schema now at version %d\n",
				result.Database, len(result.Applied), result.Applied, result.SchemaVersion)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

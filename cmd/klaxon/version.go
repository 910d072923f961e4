package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/sqlite"
)

// versionInfo is what `klaxon version --json` prints.
type versionInfo struct {
	Version       string `json:"version"`
	Commit        string `json:"commit,omitempty"`
	GoVersion     string `json:"go_version"`
	SchemaVersion int    `json:"schema_version"`
	// PostgresSchemaVersion is the schema version of the PostgreSQL store,
	// numbered on its own.
	PostgresSchemaVersion int `json:"postgres_schema_version"`
}

func buildVersion() versionInfo {
	info := versionInfo{Version: "(devel)", GoVersion: runtime.Version(), SchemaVersion: sqlite.SchemaVersion(), PostgresSchemaVersion: postgres.SchemaVersion()}
	if build, ok := debug.ReadBuildInfo(); ok {
		if build.Main.Version != "" {
			info.Version = build.Main.Version
		}
		for _, setting := range build.Settings {
			if setting.Key == "vcs.revision" {
				info.Commit = setting.Value
			}
		}
	}
	return info
}

func (m *Main) versionCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of klaxon and of the database schema it writes",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := buildVersion()
			if asJSON {
				return writeJSON(m.Stdout, info)
			}
			commit := ""
			if info.Commit != "" {
				commit = " (" + info.Commit[:min(12, len(info.Commit))] + ")"
			}
			fmt.Fprintf(m.Stdout, "klaxon %s%s, schema version %d (SQLite), %d (PostgreSQL), %s\n", info.Version, commit, info.SchemaVersion, info.PostgresSchemaVersion, info.GoVersion)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

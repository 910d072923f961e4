package postgres_test

import (
	"os"
	"testing"
)

// childRoleEnv makes the test binary act as a worker process for the
// multi-process tests instead of running tests: they start it with os/exec
// and stop it with real signals.
const childRoleEnv = "KLAXON_TEST_CHILD_ROLE"

func TestMain(m *testing.M) {
	if role := os.Getenv(childRoleEnv); role != "" {
		os.Exit(runChild(role))
	}
	os.Exit(m.Run())
}

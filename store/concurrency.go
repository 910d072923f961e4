package store

import (
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// RunsAdmitParams judges runs a holder just claimed against their
// workflows' concurrency keys.
type RunsAdmitParams struct {
	Holder string
	Runs   []RunAdmission
}

// RunAdmission is one claimed run to judge: its lease, the key the
// workflow computed for it, and the workflow's limit.
type RunAdmission struct {
	Lease Lease
	// Key is the run's concurrency key as stored
	// (klaxontype.ConcurrencyKeyOf).
	Key   string
	Limit int
}

// Validate refuses a judgement without a holder, or of a run with no key,
// a key longer than klaxontype.MaxConcurrencyKeyBytes or a limit below 1.
// Its error matches klaxontype.ErrInvalid.
func (p *RunsAdmitParams) Validate() error {
	if p.Holder == "" {
		return invalidf("admitting runs: the holder is empty")
	}
	for _, run := range p.Runs {
		switch {
		case run.Key == "":
			return invalidf("admitting run %s: its concurrency key is empty", run.Lease.RunID)
		case len(run.Key) > klaxontype.MaxConcurrencyKeyBytes:
			return invalidf("admitting run %s: its concurrency key is %d bytes, more than %d", run.Lease.RunID, len(run.Key), klaxontype.MaxConcurrencyKeyBytes)
		}
		if err := klaxontype.CheckConcurrencyLimit(run.Limit); err != nil {
			return fmt.Errorf("admitting run %s: %w", run.Lease.RunID, err)
		}
	}
	return nil
}

// ConcurrencyAdmitParams names the concurrency keys whose waiting runs to
// admit into the slots that freed; none names every key with a waiting run.
type ConcurrencyAdmitParams struct {
	Keys []string
}

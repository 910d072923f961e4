package store

import "context"

// MaxTotalsFoldBatch bounds how many runs one fold marks, so that no fold
// holds the database long enough to stall claims and checkpoints.
const MaxTotalsFoldBatch = 10000

// Totals keeps RunSumByWorkflow cheap over millions of runs. A run's totals
// stop changing once it ends (until a replay reopens it): folding adds the
// totals of ended runs to per-workflow sums once, and marks the runs, so that
// a sum reads the folded sums and the few runs not folded rather than every
// run. Folding changes what a sum reads, never what it returns; it is
// bookkeeping off the step path, safe to run from several processes at once.
type Totals interface {
	// RunTotalsFold folds up to limit (1 to MaxTotalsFoldBatch) ended runs
	// not folded yet, in one transaction, and returns how many the batch
	// took up: fewer than limit when no more were waiting. (A run that
	// changed meanwhile, replayed or deleted, is left alone, and may be
	// counted in the number.)
	RunTotalsFold(ctx context.Context, limit int) (folded int, err error)
}

package klaxon

import (
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// DeadLetterFilter selects dead-letter entries: an entry matches when it
// matches every field set. Zero fields do not filter.
type DeadLetterFilter struct {
	Classes  []klaxontype.FailureClass
	States   []klaxontype.DeadLetterState
	Workflow string
	Channel  string
	// Entities keeps entries whose run carries every one of these labels.
	Entities map[string]string
	// CreatedAfter (inclusive) and CreatedBefore (exclusive) bound when the
	// entry was created.
	CreatedAfter  time.Time
	CreatedBefore time.Time
	// RunID keeps the entries of one run: a run replayed and dead again has
	// one per death.
	RunID string
	// BeforeID lists entries older than this entry ID: the cursor of the
	// next page.
	BeforeID string
	// Limit caps a page; zero means 100.
	Limit int
	// EntryIDs is the snapshot a bulk action's dry run returned: confirmed
	// with it, ReplayMatching and DiscardMatching act on exactly those
	// entries, skip (and count) any that was closed or stopped matching in
	// between, and leave alone any that started matching since. Listing
	// entries (DeadLetters) does not use it.
	EntryIDs []string
}

// storeParams is the filter as the store takes it: the one place the two
// meet. A nil filter selects everything.
func (f *DeadLetterFilter) storeParams() *store.DLQListParams {
	if f == nil {
		return &store.DLQListParams{}
	}
	return &store.DLQListParams{
		Classes: f.Classes, States: f.States, Workflow: f.Workflow, Channel: f.Channel, Entities: f.Entities,
		CreatedAfter: f.CreatedAfter, CreatedBefore: f.CreatedBefore, RunID: f.RunID, BeforeID: f.BeforeID, Limit: f.Limit,
	}
}

// checkFilter refuses class and state names that do not exist, which would
// otherwise silently match nothing.
func checkFilter(filter *store.DLQListParams) error {
	for _, class := range filter.Classes {
		if !class.Valid() {
			return fmt.Errorf("%w: %q is not a failure class", klaxontype.ErrInvalid, class)
		}
	}
	for _, state := range filter.States {
		if !state.Valid() {
			return fmt.Errorf("%w: %q is not a dead-letter state", klaxontype.ErrInvalid, state)
		}
	}
	return nil
}

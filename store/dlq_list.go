package store

// DefaultPageLimit is how many rows a list returns when its params set no
// limit.
const DefaultPageLimit = 100

// DLQListIndex names the index that drives a dead-letter list.
type DLQListIndex int

const (
	// DLQListByID walks the entries by ID, newest first, filtering as it
	// goes.
	DLQListByID DLQListIndex = iota
	// DLQListByRun looks up the entries of one run.
	DLQListByRun
	// DLQListByClass walks the entries of one failure class.
	DLQListByClass
	// DLQListByState walks the entries in one state.
	DLQListByState
)

// Index picks the index that drives the most selective filter given, and the
// value it looks up: a run's entries, one class or one state. A single class
// or state is an equality on the leading column of its index, which a
// database walks in ID order without sorting; several would make it sort
// every match, so they walk by ID instead and filter as they go.
func (p *DLQListParams) Index() (DLQListIndex, string) {
	switch {
	case p.RunID != "":
		return DLQListByRun, p.RunID
	case len(p.Classes) == 1:
		return DLQListByClass, string(p.Classes[0])
	case len(p.States) == 1:
		return DLQListByState, string(p.States[0])
	}
	return DLQListByID, ""
}

// PageLimit is the most entries the list returns: Limit, or
// DefaultPageLimit when it is not set.
func (p *DLQListParams) PageLimit() int {
	if p.Limit <= 0 {
		return DefaultPageLimit
	}
	return p.Limit
}

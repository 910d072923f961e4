package postgres

// Methods not yet ported from the SQLite store; each file that ports one
// removes its stub here.

import (
	"context"
	"errors"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

var errUnported = errors.New("postgres: not implemented yet")

func (s *Store) WorkflowRegister(ctx context.Context, params *store.WorkflowRegisterParams) error {
	return errUnported
}
func (s *Store) WorkflowList(ctx context.Context) ([]*klaxontype.WorkflowInfo, error) {
	return nil, errUnported
}
func (s *Store) DLQList(ctx context.Context, params *store.DLQListParams) ([]*klaxontype.DeadLetter, error) {
	return nil, errUnported
}
func (s *Store) DLQGet(ctx context.Context, id string) (*klaxontype.DeadLetter, error) {
	return nil, errUnported
}
func (s *Store) DLQReplay(ctx context.Context, params *store.DLQReplayParams) (*klaxontype.DeadLetter, error) {
	return nil, errUnported
}
func (s *Store) DLQResolve(ctx context.Context, params *store.DLQResolveParams) (*klaxontype.DeadLetter, error) {
	return nil, errUnported
}
func (s *Store) DLQDiscard(ctx context.Context, params *store.DLQDiscardParams) (*klaxontype.DeadLetter, error) {
	return nil, errUnported
}
func (s *Store) DLQPurge(ctx context.Context, params *store.DLQPurgeParams) (int, error) {
	return 0, errUnported
}
func (s *Store) OutboxClaim(ctx context.Context, params *store.OutboxClaimParams) ([]*store.OutboxMessage, error) {
	return nil, errUnported
}
func (s *Store) OutboxSettle(ctx context.Context, params *store.OutboxSettleParams) error {
	return errUnported
}
func (s *Store) SpendSeries(ctx context.Context, params *store.SpendSeriesParams) ([]*klaxontype.SpendBucket, error) {
	return nil, errUnported
}
func (s *Store) BreakerTrip(ctx context.Context, params *store.BreakerTripParams) (bool, error) {
	return false, errUnported
}
func (s *Store) BreakerReset(ctx context.Context, params *store.BreakerResetParams) error {
	return errUnported
}
func (s *Store) BreakerList(ctx context.Context) ([]*klaxontype.Breaker, error) {
	return nil, errUnported
}

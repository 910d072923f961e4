package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// OutboxClaim reserves due notifications of the given channels to a holder.
func (s *Store) OutboxClaim(ctx context.Context, params *store.OutboxClaimParams) ([]*store.OutboxMessage, error) {
	if params.Holder == "" || params.Limit <= 0 || params.Lease <= 0 {
		return nil, errors.New("postgres: an outbox claim needs a holder, a positive limit and a lease")
	}
	if len(params.Channels) == 0 {
		return nil, nil
	}
	var messages []*store.OutboxMessage
	err := s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		messages = messages[:0]
		t := now()
		rows, err := tx.Query(ctx, outboxClaimSQL, params.Holder, t.Add(params.Lease), t, params.Channels, params.Limit)
		if err != nil {
			return err
		}
		claimed, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[deliveryRow])
		if err != nil {
			return err
		}
		for _, r := range claimed {
			message := &store.OutboxMessage{Delivery: r.delivery(), Kind: klaxontype.NotificationKind(r.Kind)}
			switch message.Kind {
			case klaxontype.NotificationBreaker:
				breaker := &klaxontype.Breaker{}
				if err := json.Unmarshal([]byte(str(r.Payload)), breaker); err != nil {
					return fmt.Errorf("breaker notification %d: %w", message.Delivery.ID, err)
				}
				message.Payload = breaker
			case klaxontype.NotificationAlert:
				alert := &klaxontype.AlertNotification{}
				if err := json.Unmarshal([]byte(str(r.Payload)), alert); err != nil {
					return fmt.Errorf("alert notification %d: %w", message.Delivery.ID, err)
				}
				message.Payload = alert
			case klaxontype.NotificationApproval:
				approval := &klaxontype.ApprovalNotification{}
				if err := json.Unmarshal([]byte(str(r.Payload)), approval); err != nil {
					return fmt.Errorf("approval notification %d: %w", message.Delivery.ID, err)
				}
				message.Payload = approval
			default:
				if message.Payload, err = getDeadLetter(ctx, tx, s.keys, r.EntryID, true); err != nil {
					return err
				}
			}
			messages = append(messages, message)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return messages, nil
}

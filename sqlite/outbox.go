package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// OutboxClaim reserves due notifications of the given channels to a holder.
func (s *Store) OutboxClaim(ctx context.Context, params *store.OutboxClaimParams) ([]*store.OutboxMessage, error) {
	if params.Holder == "" || params.Limit <= 0 || params.Lease <= 0 {
		return nil, errors.New("sqlite: an outbox claim needs a holder, a positive limit and a lease")
	}
	if len(params.Channels) == 0 {
		return nil, nil
	}
	channels, err := json.Marshal(params.Channels)
	if err != nil {
		return nil, err
	}
	var messages []*store.OutboxMessage
	err = s.writer.write(func(conn *sqlite.Conn) error {
		messages = messages[:0]
		t := now()
		err := execute(conn, outboxClaimSQL, func(stmt *sqlite.Stmt) error {
			message := &store.OutboxMessage{Delivery: scanDelivery(stmt), Kind: klaxontype.NotificationKind(stmt.GetText("kind"))}
			switch message.Kind {
			case klaxontype.NotificationBreaker:
				breaker := &klaxontype.Breaker{}
				if err := json.Unmarshal([]byte(stmt.GetText("payload")), breaker); err != nil {
					return fmt.Errorf("breaker notification %d: %w", message.Delivery.ID, err)
				}
				message.Payload = breaker
			case klaxontype.NotificationAlert:
				alert := &klaxontype.AlertNotification{}
				if err := json.Unmarshal([]byte(stmt.GetText("payload")), alert); err != nil {
					return fmt.Errorf("alert notification %d: %w", message.Delivery.ID, err)
				}
				message.Payload = alert
			case klaxontype.NotificationApproval:
				approval := &klaxontype.ApprovalNotification{}
				if err := json.Unmarshal([]byte(stmt.GetText("payload")), approval); err != nil {
					return fmt.Errorf("approval notification %d: %w", message.Delivery.ID, err)
				}
				message.Payload = approval
			}
			messages = append(messages, message)
			return nil
		}, params.Holder, t.Add(params.Lease), t, string(channels), params.Limit)
		if err != nil {
			return err
		}
		for _, m := range messages {
			if m.Kind != klaxontype.NotificationDeadLetter {
				continue
			}
			if m.Payload, err = getDeadLetter(conn, s.keys, m.Delivery.EntryID, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return messages, nil
}

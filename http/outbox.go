package http

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon/store"
)

// OutboxList sums up the notifications waiting to be delivered, by channel
// and kind.
type OutboxList struct {
	Channels []*store.OutboxChannel `json:"channels"`
}

type listOutboxOutput struct {
	Body OutboxList
}

// GiveUpRequest gives up a channel's pending notifications.
type GiveUpRequest struct {
	Channel string `json:"channel" minLength:"1" maxLength:"200" doc:"The channel whose pending notifications nobody will deliver"`
	Reason  string `json:"reason" minLength:"1" maxLength:"2000" doc:"Why, kept as each notification's last error with the token's name"`
}

// GiveUpResponse counts the notifications given up.
type GiveUpResponse struct {
	Channel string `json:"channel"`
	GivenUp int    `json:"given_up"`
}

type giveUpInput struct {
	Body GiveUpRequest
}

type giveUpOutput struct {
	Body GiveUpResponse
}

func (s *Server) registerOutbox() {
	register(s, ScopeRead, huma.Operation{
		OperationID: "list-pending-notifications", Method: http.MethodGet, Path: APIPrefix + "/outbox",
		Summary: "Notifications waiting to be delivered, by channel and kind", Tags: []string{"outbox"},
		Description: "Dead-letter, breaker and alert notifications not yet delivered nor given up. " +
			"They pile up on a channel that no running process delivers.",
	}, func(ctx context.Context, _ *struct{}) (*listOutboxOutput, error) {
		channels, err := s.client.PendingNotifications(ctx)
		if err != nil {
			return nil, err
		}
		return &listOutboxOutput{Body: OutboxList{Channels: orEmpty(channels)}}, nil
	})
	register(s, ScopeAdmin, huma.Operation{
		OperationID: "give-up-notifications", Method: http.MethodPost, Path: APIPrefix + "/outbox/give-up",
		Summary: "Give up a channel's pending notifications, recording who and why", Tags: []string{"outbox"},
		Description: "For a channel nobody will deliver any more (a removed webhook or alert target). " +
			"Notifications a deliverer holds at the moment are left to it.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *giveUpInput) (*giveUpOutput, error) {
		given, err := s.client.GiveUpNotifications(ctx, input.Body.Channel, input.Body.Reason, actor(ctx))
		if err != nil {
			return nil, err
		}
		return &giveUpOutput{Body: GiveUpResponse{Channel: input.Body.Channel, GivenUp: given}}, nil
	})
}

// PendingNotifications sums up the outbox by channel and kind (scope read).
func (c *Client) PendingNotifications(ctx context.Context) ([]*store.OutboxChannel, error) {
	var list OutboxList
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/outbox", nil, nil, &list); err != nil {
		return nil, err
	}
	return list.Channels, nil
}

// GiveUpNotifications gives up a channel's pending notifications (scope
// admin) and returns how many.
func (c *Client) GiveUpNotifications(ctx context.Context, channel, reason string) (int, error) {
	var response GiveUpResponse
	if err := c.do(ctx, http.MethodPost, APIPrefix+"/outbox/give-up", nil, &GiveUpRequest{Channel: channel, Reason: reason}, &response); err != nil {
		return 0, err
	}
	return response.GivenUp, nil
}

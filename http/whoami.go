package http

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// WhoAmI is the caller as the server sees it: which token, with which scope,
// so that a user interface can offer only what the token may do. The server
// still refuses whatever the scope does not allow.
type WhoAmI struct {
	// Name is the token's name, the actor recorded for its actions;
	// "anonymous" on a server without tokens.
	Name string `json:"name" doc:"The token's name, recorded as the actor of its actions; anonymous on a server without tokens"`
	// Scope is read, operate, admin or worker.
	Scope string `json:"scope" enum:"read,operate,admin,worker" doc:"What the token may do: read < operate < admin; worker only hosts workflows"`
	// TokensRequired is false on a server without tokens, where every
	// request from this machine may do everything.
	TokensRequired bool `json:"tokens_required" doc:"False on a server without access tokens (this machine only, every scope)"`
}

type whoAmIOutput struct {
	Body WhoAmI
}

// scopeCtxKey carries the acting token's scope in a request's context.
type scopeCtxKey struct{}

func (s *Server) registerWhoAmI() {
	register(s, ScopeRead, huma.Operation{
		OperationID: "whoami", Method: http.MethodGet, Path: APIPrefix + "/whoami",
		Summary: "The caller's token name and scope", Tags: []string{"tokens"},
	}, func(ctx context.Context, _ *struct{}) (*whoAmIOutput, error) {
		output := &whoAmIOutput{Body: WhoAmI{Name: actor(ctx), Scope: ScopeAdmin.String(), TokensRequired: s.tokens.Len() > 0}}
		if scope, ok := ctx.Value(scopeCtxKey{}).(Scope); ok {
			output.Body.Scope = scope.String()
		}
		return output, nil
	})
}

// WhoAmI returns the caller as the server sees it: the client's token name
// and scope (scope read).
func (c *Client) WhoAmI(ctx context.Context) (*WhoAmI, error) {
	var who WhoAmI
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/whoami", nil, nil, &who); err != nil {
		return nil, err
	}
	return &who, nil
}

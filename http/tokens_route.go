package http

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// TokenInfo describes a configured access token: never its secret, which the
// server does not keep.
type TokenInfo struct {
	Name  string `json:"name"`
	Scope string `json:"scope" enum:"read,operate,admin,worker"`
}

// TokenList is every access token the server accepts.
type TokenList struct {
	Tokens []TokenInfo `json:"tokens"`
}

type listTokensOutput struct {
	Body TokenList
}

// list returns the tokens' names and scopes, in the order configured.
func (t *Tokens) list() []TokenInfo {
	infos := []TokenInfo{}
	if t == nil {
		return infos
	}
	for _, token := range t.tokens {
		infos = append(infos, TokenInfo{Name: token.name, Scope: token.scope.String()})
	}
	return infos
}

// registerTokens serves the admin's view of the access tokens, so that an
// operator can see who may do what without reading the server's files.
func (s *Server) registerTokens() {
	register(s, ScopeAdmin, huma.Operation{
		OperationID: "list-tokens",
		Method:      http.MethodGet,
		Path:        APIPrefix + "/tokens",
		Summary:     "List the access tokens: names and scopes, never secrets",
		Tags:        []string{"admin"},
	}, func(ctx context.Context, _ *struct{}) (*listTokensOutput, error) {
		return &listTokensOutput{Body: TokenList{Tokens: s.tokens.list()}}, nil
	})
}

// Tokens lists the server's access tokens, names and scopes (scope admin).
func (c *Client) Tokens(ctx context.Context) ([]TokenInfo, error) {
	var list TokenList
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/tokens", nil, nil, &list); err != nil {
		return nil, err
	}
	return list.Tokens, nil
}

package http_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// An admin sees every token's name and scope, and nobody sees a secret.
func TestTokensListsNamesAndScopesOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	tokens, err := f.client(adminSecret).Tokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, token := range tokens {
		got = append(got, token.Name+":"+token.Scope)
	}
	if strings.Join(got, " ") != "reader:read operator:operate root:admin workers:worker" {
		t.Fatalf("tokens = %v", got)
	}
	body := f.do("GET", "/api/v1/tokens", adminSecret, "")
	for _, secret := range []string{readSecret, operateSecret, adminSecret, workerSecret} {
		if strings.Contains(string(body.body), secret) {
			t.Fatalf("the token list shows a secret: %s", body.body)
		}
	}
	if _, err := f.client(operateSecret).Tokens(context.Background()); err == nil || errors.Is(err, klaxontype.ErrNotFound) {
		t.Fatalf("an operate token listed the tokens: %v", err)
	}
}

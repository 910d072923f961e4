package http

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"unicode"
)

// Scope is what a token may do. Each of read, operate and admin includes the
// ones below it: admin may operate, and operate may read. Worker stands
// apart: it hosts workflows over the worker protocol and may do nothing
// else, and no other scope may do what it does.
type Scope int

const (
	// ScopeNone marks routes anyone may call: health checks and the OpenAPI
	// document.
	ScopeNone Scope = iota
	// ScopeRead looks: runs, the dead-letter queue, workflows.
	ScopeRead
	// ScopeOperate acts: enqueue, replay, resolve, discard, cancel.
	ScopeOperate
	// ScopeAdmin administers: purge, breaker reset, tokens, the audit log.
	ScopeAdmin
	// ScopeWorker hosts workflows: register, claim, heartbeat, checkpoint
	// and report, under /api/v1/worker/, and nothing else.
	ScopeWorker
)

// Scopes lists the scopes a token can have: read, operate and admin from
// least to most, then worker.
func Scopes() []Scope { return []Scope{ScopeRead, ScopeOperate, ScopeAdmin, ScopeWorker} }

// allows reports whether a token of scope s may call an operation that
// needs required.
func (s Scope) allows(required Scope) bool {
	if s == ScopeWorker || required == ScopeWorker {
		return s == required
	}
	return s >= required
}

// String is the scope's name in token files and error messages.
func (s Scope) String() string {
	switch s {
	case ScopeNone:
		return "none"
	case ScopeRead:
		return "read"
	case ScopeOperate:
		return "operate"
	case ScopeAdmin:
		return "admin"
	case ScopeWorker:
		return "worker"
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// ParseScope reads read, operate, admin or worker.
func ParseScope(name string) (Scope, error) {
	for _, scope := range Scopes() {
		if scope.String() == name {
			return scope, nil
		}
	}
	return ScopeNone, fmt.Errorf("scope %q is not read, operate, admin or worker", name)
}

// Token is an access token as configured: the secret is only held until
// NewTokens hashes it.
type Token struct {
	// Name identifies the token in the event log: it is the actor of every
	// action taken with it.
	Name  string
	Scope Scope
	// Secret is what a request presents as "Authorization: Bearer SECRET".
	Secret string
}

// MinSecretLength is the shortest secret accepted, so that a token cannot be
// guessed in the time a server is up.
const MinSecretLength = 16

// minDistinctRunes is the fewest different characters a secret may have:
// sixteen identical characters are a placeholder, not a secret.
const minDistinctRunes = 5

// distinctRunes counts the different characters of s.
func distinctRunes(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

// EnvToken is the environment variable holding a single admin token, named
// "admin".
const EnvToken = "KLAXON_TOKEN"

// ReadTokens reads a token file: one token a line, "NAME SCOPE SECRET"
// separated by spaces or tabs, where SCOPE is read, operate, admin or worker. Blank
// lines and lines starting with # are ignored. Names must be unique and
// secrets at least MinSecretLength characters.
func ReadTokens(r io.Reader) ([]Token, error) {
	var tokens []Token
	scanner := bufio.NewScanner(r)
	for line := 1; scanner.Scan(); line++ {
		text := strings.TrimSpace(scanner.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 3 {
			return nil, fmt.Errorf("line %d: want NAME SCOPE SECRET, got %d fields", line, len(fields))
		}
		scope, err := ParseScope(fields[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		tokens = append(tokens, Token{Name: fields[0], Scope: scope, Secret: fields[2]})
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	return tokens, nil
}

// LoadTokens reads the token file at path (see ReadTokens) when path is not
// empty, and adds the admin token of KLAXON_TOKEN when getenv has one.
func LoadTokens(path string, getenv func(string) string) ([]Token, error) {
	var tokens []Token
	if path != "" {
		file, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		if tokens, err = ReadTokens(file); err != nil {
			return nil, fmt.Errorf("token file %s: %w", path, err)
		}
	}
	if getenv != nil {
		if secret := getenv(EnvToken); secret != "" {
			if strings.TrimSpace(secret) == "" {
				return nil, fmt.Errorf("%s holds only spaces: no request could present it", EnvToken)
			}
			tokens = append(tokens, Token{Name: "admin", Scope: ScopeAdmin, Secret: secret})
		}
	}
	return tokens, nil
}

// TokenFileWarning says, when the token file at path can be read by users
// other than its owner, what to do about it; empty when it cannot, or when
// path is empty. The secrets are only as safe as the file.
func TokenFileWarning(path string) string {
	if path == "" {
		return ""
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("token file %s can be read by other users (mode %04o): run chmod 600 %s", path, info.Mode().Perm(), path)
}

// hashedToken is what the server keeps of a token: never the secret.
type hashedToken struct {
	name  string
	scope Scope
	hash  [sha256.Size]byte
}

// Tokens checks presented secrets against the SHA-256 hashes of the
// configured ones.
type Tokens struct {
	tokens []hashedToken
}

// NewTokens checks and hashes tokens. The secrets are not kept.
func NewTokens(tokens ...Token) (*Tokens, error) {
	t := &Tokens{}
	names := make(map[string]bool)
	for _, token := range tokens {
		switch {
		case token.Name == "" || strings.ContainsAny(token.Name, " \t\r\n"):
			return nil, fmt.Errorf("token name %q must be one word", token.Name)
		case names[token.Name]:
			return nil, fmt.Errorf("token name %q is used twice", token.Name)
		case token.Scope < ScopeRead || token.Scope > ScopeWorker:
			return nil, fmt.Errorf("token %q: %v is not read, operate, admin or worker", token.Name, token.Scope)
		case len(token.Secret) < MinSecretLength:
			return nil, fmt.Errorf("token %q: the secret must be at least %d characters", token.Name, MinSecretLength)
		case strings.ContainsFunc(token.Secret, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
			// A request cannot present it: the Authorization header is
			// trimmed, and a secret of spaces would lock everyone out.
			return nil, fmt.Errorf("token %q: the secret holds spaces or control characters, which no request can present", token.Name)
		case distinctRunes(token.Secret) < minDistinctRunes:
			return nil, fmt.Errorf("token %q: the secret has fewer than %d different characters: use a random one (openssl rand -hex 24)", token.Name, minDistinctRunes)
		}
		hash := sha256.Sum256([]byte(token.Secret))
		for _, other := range t.tokens {
			if other.hash == hash {
				// Otherwise the last one would silently win, with its scope.
				return nil, fmt.Errorf("tokens %q and %q have the same secret: each token needs its own", other.name, token.Name)
			}
		}
		names[token.Name] = true
		t.tokens = append(t.tokens, hashedToken{name: token.Name, scope: token.Scope, hash: hash})
	}
	return t, nil
}

// Len is how many tokens there are.
func (t *Tokens) Len() int {
	if t == nil {
		return 0
	}
	return len(t.tokens)
}

// lookup finds the token a secret belongs to. Every configured hash is
// compared in constant time, whichever matches, so that timing tells nothing
// about which token or how much of it was right.
func (t *Tokens) lookup(secret string) (name string, scope Scope, ok bool) {
	presented := sha256.Sum256([]byte(secret))
	for _, token := range t.tokens {
		if subtle.ConstantTimeCompare(presented[:], token.hash[:]) == 1 {
			name, scope, ok = token.name, token.scope, true
		}
	}
	return name, scope, ok
}

// ErrNoTokensNonLoopback is returned when a server without tokens is asked to
// listen where other machines can reach it.
var ErrNoTokensNonLoopback = errors.New("without access tokens the server listens on loopback only (127.0.0.1, ::1, localhost): give --tokens FILE or KLAXON_TOKEN to listen elsewhere")

// CheckAddr refuses a non-loopback listen address for a server without
// tokens. An empty host (":7070") means every interface and is refused too.
func CheckAddr(addr string, hasTokens bool) error {
	if hasTokens {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if !isLoopbackHost(host) {
		return fmt.Errorf("address %q: %w", addr, ErrNoTokensNonLoopback)
	}
	return nil
}

// ErrPlainHTTPNonLoopback is returned when a server, which speaks plain
// HTTP, is asked to listen where other machines can reach it without saying
// that a TLS-terminating proxy stands in front.
var ErrPlainHTTPNonLoopback = errors.New("the server speaks plain HTTP, so tokens and run data would cross the network in clear text: " +
	"put a reverse proxy that terminates TLS in front of it (see docs/reverse-proxy.md) and give --insecure-behind-proxy, or listen on loopback")

// CheckPlainHTTP refuses a non-loopback listen address unless behindProxy
// says a reverse proxy terminates TLS in front of the server.
func CheckPlainHTTP(addr string, behindProxy bool) error {
	if behindProxy {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if !isLoopbackHost(host) {
		return fmt.Errorf("address %q: %w", addr, ErrPlainHTTPNonLoopback)
	}
	return nil
}

// isLoopbackHost accepts loopback IP addresses and "localhost"; any other
// name is refused rather than resolved, since what it resolves to can change.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

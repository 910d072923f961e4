package store

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Keyring encrypts the payloads a store keeps (run inputs and outputs, step
// outputs, which hold recorded model responses, dead-letter inputs, signal
// payloads and schedule inputs) with AES-256-GCM under a ring of named keys.
// The newest key seals every new value; every key of the ring opens the values
// sealed under it, so that a rotation can re-seal them under the newest while
// the engine keeps running. A nil *Keyring seals nothing and opens only
// plaintext: a store without keys behaves as before encryption existed.
//
// A sealed value is an envelope that names its key, so the key that opens it
// is found without trying every key:
//
//	0x00 'k' 'x' 0x01 | len(id) | id | 12-byte random nonce | ciphertext and GCM tag
//
// No JSON document begins with a zero byte, so a value written before the
// store had keys reads back as the plaintext it is.
type Keyring struct {
	keys   map[string]cipher.AEAD
	ids    []string
	newest string
	// header is the envelope's prefix for the newest key, which SealedPrefix
	// gives the rotation to find the values sealed under another key.
	header []byte
}

// Key is one key of a ring: a 32-byte AES-256 secret under an ID that
// names it in every value it seals.
type Key struct {
	ID     string
	Secret []byte
}

// sealMagic begins every sealed value; a JSON value never begins with 0x00.
var sealMagic = []byte{0x00, 'k', 'x', 0x01}

const (
	// keyIDMaxLen bounds a key ID, which every sealed value carries.
	keyIDMaxLen = 32
	nonceLen    = 12
	// keyCheckText is what a key check value seals: the store keeps one per
	// key ID so that a wrong key is refused when the store opens, not when
	// it first reads a value.
	keyCheckText = "klaxon key check v1"
)

// ErrKeyMissing is returned for a value sealed under a key the ring does not
// hold.
var ErrKeyMissing = errors.New("encryption key missing")

// NewKeyring makes a ring of keys, newest last. It refuses an empty ring, a
// key ID that is empty, too long or not made of letters, digits, '.', '_'
// and '-', an ID given twice, and a secret that is not 32 bytes.
func NewKeyring(keys []Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("the key ring is empty: give at least one key as ID:BASE64")
	}
	ring := &Keyring{keys: make(map[string]cipher.AEAD, len(keys))}
	for i, key := range keys {
		if err := checkKeyID(key.ID); err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		if _, dup := ring.keys[key.ID]; dup {
			return nil, fmt.Errorf("key %d: the key ID %q is given twice", i+1, key.ID)
		}
		if len(key.Secret) != 32 {
			return nil, fmt.Errorf("key %q: the secret is %d bytes; AES-256 needs 32 (klaxon keys generate makes one)", key.ID, len(key.Secret))
		}
		block, err := aes.NewCipher(key.Secret)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key.ID, err)
		}
		ring.keys[key.ID] = aead
		ring.ids = append(ring.ids, key.ID)
	}
	ring.newest = keys[len(keys)-1].ID
	ring.header = envelopeHeader(ring.newest)
	return ring, nil
}

func checkKeyID(id string) error {
	if id == "" {
		return errors.New("the key ID is empty")
	}
	if len(id) > keyIDMaxLen {
		return fmt.Errorf("the key ID %q is longer than %d characters", id, keyIDMaxLen)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("the key ID %q has %q: use letters, digits, '.', '_' and '-'", id, c)
		}
	}
	return nil
}

// ParseKeyring reads a ring written as KLAXON_ENCRYPTION_KEYS or a key file
// holds it: keys as ID:BASE64 (standard base64 of 32 bytes), separated by
// commas or newlines, newest last; blank lines and lines beginning with '#'
// are ignored. Its errors name the entry at fault and never quote a secret.
func ParseKeyring(text string) (*Keyring, error) {
	var keys []Key
	entry := 0
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, item := range strings.Split(line, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			entry++
			id, secret, found := strings.Cut(item, ":")
			if !found {
				return nil, fmt.Errorf("key %d: expected ID:BASE64, found no ':'", entry)
			}
			id = strings.TrimSpace(id)
			if err := checkKeyID(id); err != nil {
				return nil, fmt.Errorf("key %d: %w", entry, err)
			}
			decoded, err := base64.StdEncoding.DecodeString(strings.TrimSpace(secret))
			if err != nil {
				return nil, fmt.Errorf("key %q: the secret is not standard base64", id)
			}
			keys = append(keys, Key{ID: id, Secret: decoded})
		}
	}
	return NewKeyring(keys)
}

// GenerateKeySecret returns a new random 32-byte secret in standard base64,
// as ParseKeyring reads it.
func GenerateKeySecret() (string, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(secret), nil
}

// Newest is the ID of the key that seals new values; empty for a nil ring.
func (r *Keyring) Newest() string {
	if r == nil {
		return ""
	}
	return r.newest
}

// IDs lists the ring's key IDs, newest last.
func (r *Keyring) IDs() []string {
	if r == nil {
		return nil
	}
	return append([]string(nil), r.ids...)
}

// Has reports whether the ring holds the key id.
func (r *Keyring) Has(id string) bool {
	if r == nil {
		return false
	}
	_, ok := r.keys[id]
	return ok
}

func envelopeHeader(id string) []byte {
	header := make([]byte, 0, len(sealMagic)+1+len(id))
	header = append(header, sealMagic...)
	header = append(header, byte(len(id)))
	return append(header, id...)
}

// SealedPrefix is the prefix of every value sealed under the newest key:
// a value without it is plaintext or sealed under an older key, and is what
// a rotation re-seals. Nil for a nil ring.
func (r *Keyring) SealedPrefix() []byte {
	if r == nil {
		return nil
	}
	return r.header
}

// Seal encrypts plaintext under the newest key into one new buffer. A nil
// ring, and a nil value (SQL NULL), are returned as they are.
func (r *Keyring) Seal(plaintext []byte) []byte {
	if r == nil || plaintext == nil {
		return plaintext
	}
	aead := r.keys[r.newest]
	out := make([]byte, len(r.header), len(r.header)+nonceLen+len(plaintext)+aead.Overhead())
	copy(out, r.header)
	nonce := out[len(out) : len(out)+nonceLen]
	if _, err := rand.Read(nonce); err != nil {
		// crypto/rand does not fail on the platforms Go supports.
		panic("klaxon: no randomness for an encryption nonce: " + err.Error())
	}
	out = out[:len(out)+nonceLen]
	return aead.Seal(out, nonce, plaintext, r.header)
}

// IsSealed reports whether a stored value is sealed, and under which key.
func IsSealed(stored []byte) (keyID string, sealed bool) {
	if !bytes.HasPrefix(stored, sealMagic) || len(stored) < len(sealMagic)+1 {
		return "", false
	}
	n := int(stored[len(sealMagic)])
	if len(stored) < len(sealMagic)+1+n {
		return "", false
	}
	return string(stored[len(sealMagic)+1 : len(sealMagic)+1+n]), true
}

// Open returns the plaintext of a stored value, in stored's own memory,
// which the caller must own: a value that is not sealed is returned as it is; a sealed one is decrypted under the key it names.
// A key the ring lacks gives ErrKeyMissing; a value that does not decrypt
// (tampered, or sealed under another secret of the same ID) gives an error
// that names the key, never the value.
func (r *Keyring) Open(stored []byte) ([]byte, error) {
	if len(stored) == 0 || stored[0] != 0x00 {
		return stored, nil
	}
	id, sealed := IsSealed(stored)
	if !sealed {
		return stored, nil
	}
	if r == nil {
		return nil, fmt.Errorf("a stored value is encrypted with key %q and no encryption keys were given: %w", id, ErrKeyMissing)
	}
	aead, ok := r.keys[id]
	if !ok {
		return nil, fmt.Errorf("a stored value is encrypted with key %q, which the key ring lacks: %w", id, ErrKeyMissing)
	}
	headerLen := len(sealMagic) + 1 + len(id)
	if len(stored) < headerLen+nonceLen+aead.Overhead() {
		return nil, fmt.Errorf("a stored value encrypted with key %q is truncated", id)
	}
	nonce := stored[headerLen : headerLen+nonceLen]
	// Decrypting in place spares the hot path an allocation per value.
	ciphertext := stored[headerLen+nonceLen:]
	plaintext, err := aead.Open(ciphertext[:0], nonce, ciphertext, stored[:headerLen])
	if err != nil {
		return nil, fmt.Errorf("a stored value does not decrypt with key %q: the key's secret is not the one it was written with, or the value was altered", id)
	}
	return plaintext, nil
}

// Reseal re-encrypts a stored value under the newest key; changed is false
// when it already is.
func (r *Keyring) Reseal(stored []byte) (resealed []byte, changed bool, err error) {
	if stored == nil || bytes.HasPrefix(stored, r.header) {
		return stored, false, nil
	}
	// Open decrypts in place; the caller compares the old value to
	// write the new one only if nothing changed it meanwhile.
	plaintext, err := r.Open(bytes.Clone(stored))
	if err != nil {
		return nil, false, err
	}
	return r.Seal(plaintext), true, nil
}

// KeyCheck is a key's check value as a store keeps it: a known text sealed
// under the key, by which a wrong secret for the ID is found when the store
// opens. Retired is set once a rotation re-sealed every value under a newer
// key, after which the key may leave the ring.
type KeyCheck struct {
	ID      string
	Value   []byte
	Retired bool
}

// KeyCheckValue seals the known check text under the key id.
func (r *Keyring) KeyCheckValue(id string) []byte {
	aead := r.keys[id]
	header := envelopeHeader(id)
	out := make([]byte, len(header)+nonceLen, len(header)+nonceLen+len(keyCheckText)+aead.Overhead())
	copy(out, header)
	if _, err := rand.Read(out[len(header):]); err != nil {
		panic("klaxon: no randomness for an encryption nonce: " + err.Error())
	}
	return aead.Seal(out, out[len(header):], []byte(keyCheckText), header)
}

// CheckKeyring compares a ring with the check values a store keeps, when the
// store opens, and returns the check values to record (inserted, or marked
// not retired when already kept) for keys the store has not seen and for a
// retired key that is the newest again. It refuses a ring that lacks a key the database still has values
// under (or any key, when no ring is given and the database has one), and a
// key whose secret does not open its check value: the store must not start
// and fail later, at the first read.
func CheckKeyring(ring *Keyring, stored []KeyCheck) (record []KeyCheck, err error) {
	var missing []string
	seen := make(map[string]bool, len(stored))
	for _, check := range stored {
		seen[check.ID] = true
		if !ring.Has(check.ID) {
			if !check.Retired {
				missing = append(missing, check.ID)
			}
			continue
		}
		plaintext, err := ring.Open(check.Value)
		if err != nil || string(plaintext) != keyCheckText {
			return nil, fmt.Errorf("encryption key %q is wrong: it is not the key this database was written with", check.ID)
		}
	}
	if len(missing) > 0 {
		if ring == nil {
			return nil, fmt.Errorf("this database holds values encrypted with key %s and no encryption keys were given: "+
				"set KLAXON_ENCRYPTION_KEYS or KLAXON_ENCRYPTION_KEY_FILE (or --encryption-keys)", strings.Join(quoteAll(missing), ", "))
		}
		return nil, fmt.Errorf("this database holds values encrypted with key %s, which the key ring lacks: "+
			"add it back (and run klaxon keys rotate before dropping a key)", strings.Join(quoteAll(missing), ", "))
	}
	for _, id := range ring.IDs() {
		if !seen[id] {
			record = append(record, KeyCheck{ID: id, Value: ring.KeyCheckValue(id)})
		}
	}
	// A retired key that is the newest again seals new values again: it
	// must not be dropped without a rotation.
	for _, check := range stored {
		if check.Retired && check.ID == ring.Newest() {
			record = append(record, KeyCheck{ID: check.ID, Value: check.Value})
		}
	}
	return record, nil
}

func quoteAll(ids []string) []string {
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = fmt.Sprintf("%q", id)
	}
	return quoted
}

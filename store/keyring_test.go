package store_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/store"
)

const (
	secretA = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" // bytes 0..31
	secretB = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=" // bytes 32..63
)

func TestParseKeyringRefusesMalformedRings(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"empty", "  \n# only a comment\n", "empty"},
		{"no colon", "k1" + secretA, "no ':'"},
		{"empty ID", ":" + secretA, "ID is empty"},
		{"bad ID", "k 1:" + secretA, "has ' '"},
		{"long ID", strings.Repeat("k", 33) + ":" + secretA, "longer than 32"},
		{"not base64", "k1:not*base64", `key "k1": the secret is not standard base64`},
		{"short secret", "k1:AAEC", "is 3 bytes; AES-256 needs 32"},
		{"twice", "k1:" + secretA + ",k1:" + secretB, "given twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ring, err := store.ParseKeyring(c.text)
			if err == nil {
				t.Fatalf("ParseKeyring(%q) gave a ring of %v; want an error", c.text, ring.IDs())
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			for _, secret := range []string{secretA, secretB, "not*base64"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes a secret", err)
				}
			}
		})
	}
}

func TestKeyringSealsUnderTheNewestAndOpensUnderAny(t *testing.T) {
	old, err := store.ParseKeyring("# rotated in March\nk1:" + secretA + "\n")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := store.ParseKeyring(" k1:" + secretA + " , k2:" + secretB)
	if err != nil {
		t.Fatal(err)
	}
	if ring.Newest() != "k2" {
		t.Fatalf("Newest is %q, want k2 (the last given)", ring.Newest())
	}
	plaintext := []byte(`{"customer": {"email": "jane@example.com"}}`)
	sealedOld := old.Seal(plaintext)
	sealed := ring.Seal(plaintext)
	if bytes.Contains(sealed, []byte("jane")) || bytes.Equal(sealed, ring.Seal(plaintext)) {
		t.Fatal("a sealed value holds its plaintext, or two seals are equal (nonce reused)")
	}
	if id, ok := store.IsSealed(sealed); !ok || id != "k2" {
		t.Fatalf("IsSealed = %q, %v; want k2", id, ok)
	}
	for name, value := range map[string][]byte{"old key": sealedOld, "newest key": sealed, "plaintext": bytes.Clone(plaintext)} {
		got, err := ring.Open(bytes.Clone(value))
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Errorf("Open of a value under the %s = %q, %v", name, got, err)
		}
	}
	if _, err := old.Open(bytes.Clone(sealed)); !errors.Is(err, store.ErrKeyMissing) || !strings.Contains(err.Error(), `"k2"`) {
		t.Errorf("Open by a ring without k2 = %v; want ErrKeyMissing naming k2", err)
	}
	var none *store.Keyring
	if got := none.Seal(plaintext); !bytes.Equal(got, plaintext) {
		t.Errorf("a nil ring sealed %q", got)
	}
	if _, err := none.Open(bytes.Clone(sealed)); !errors.Is(err, store.ErrKeyMissing) {
		t.Errorf("Open by a nil ring = %v; want ErrKeyMissing", err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := ring.Open(tampered); err == nil {
		t.Error("a tampered value opened")
	}
	resealed, changed, err := ring.Reseal(sealedOld)
	if err != nil || !changed {
		t.Fatalf("Reseal of an old value: %v, changed %v", err, changed)
	}
	if id, _ := store.IsSealed(resealed); id != "k2" {
		t.Errorf("a resealed value is under %q, want k2", id)
	}
	if _, changed, _ := ring.Reseal(resealed); changed {
		t.Error("Reseal changed a value already under the newest key")
	}
}

func TestCheckKeyringRefusesAWrongOrMissingKey(t *testing.T) {
	ring, _ := store.ParseKeyring("k1:" + secretA)
	record, err := store.CheckKeyring(ring, nil)
	if err != nil || len(record) != 1 || record[0].ID != "k1" {
		t.Fatalf("first check: %+v, %v; want k1's check value to record", record, err)
	}
	if again, err := store.CheckKeyring(ring, record); err != nil || len(again) != 0 {
		t.Errorf("the same ring again: %+v, %v; want nothing to record", again, err)
	}
	wrong, _ := store.ParseKeyring("k1:" + secretB)
	if _, err := store.CheckKeyring(wrong, record); err == nil || !strings.Contains(err.Error(), `"k1" is wrong`) {
		t.Errorf("a wrong secret: %v", err)
	}
	if _, err := store.CheckKeyring(nil, record); err == nil || !strings.Contains(err.Error(), "KLAXON_ENCRYPTION_KEYS") {
		t.Errorf("no keys: %v", err)
	}
	retired := []store.KeyCheck{{ID: "k1", Value: record[0].Value, Retired: true}}
	if _, err := store.CheckKeyring(nil, retired); err != nil {
		t.Errorf("no keys for a database whose only key is retired: %v", err)
	}
}

// BenchmarkKeyringSealOpen is what encryption adds per stored value: one
// seal on the write, one open on the read, for a small step output.
func BenchmarkKeyringSealOpen(b *testing.B) {
	ring, err := store.ParseKeyring("k1:" + secretA)
	if err != nil {
		b.Fatal(err)
	}
	plaintext := []byte(`{"n": 3}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ring.Open(ring.Seal(plaintext)); err != nil {
			b.Fatal(err)
		}
	}
}

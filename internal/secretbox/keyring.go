package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// KeySize is the length in bytes of every key: AES-256.
const KeySize = 32

// EnvVar is the variable that holds the keys, named in errors so that an operator knows
// where to look.
const EnvVar = "NOTIFICATIONS_SECRETS_KEY"

// keyIDLen is the number of hex digits of a key id. 32 bits tell a handful of keys apart;
// ParseKeys rejects the vanishingly rare ring in which two differ only past them.
const keyIDLen = 8

// ErrInvalidKeys is wrapped by every error of ParseKeys and LoadOrCreateKeyFile that is
// about the keys themselves (empty, not base64, wrong length, repeated).
var ErrInvalidKeys = errors.New("secretbox: invalid " + EnvVar)

// Keyring holds the keys that seal and open secrets: the first seals, all open. It is
// immutable and safe for concurrent use. Printing or logging it shows only the key ids.
type Keyring struct {
	keys []ringKey // keys[0] seals
}

// ringKey is one key of a Keyring, kept as its ready AEAD rather than as raw bytes so that
// nothing in the ring is the key itself.
type ringKey struct {
	id   string
	aead cipher.AEAD
}

// ParseKeys parses the value of NOTIFICATIONS_SECRETS_KEY: keys in standard base64,
// separated by commas, spaces around each ignored. Errors name the offending entry by its
// position (1 for the first), never by its content, and wrap ErrInvalidKeys.
func ParseKeys(value string) (*Keyring, error) {
	if strings.TrimSpace(value) == "" {
		return nil, fmt.Errorf("%w: it is empty; it needs at least one base64 key of %d bytes", ErrInvalidKeys, KeySize)
	}
	entries := strings.Split(value, ",")
	r := &Keyring{keys: make([]ringKey, 0, len(entries))}
	seen := make(map[string]int, len(entries)) // key id -> position
	for i, e := range entries {
		pos := i + 1
		e = strings.TrimSpace(e)
		if e == "" {
			return nil, fmt.Errorf("%w: entry %d is empty", ErrInvalidKeys, pos)
		}
		raw, err := base64.StdEncoding.DecodeString(e)
		if err != nil {
			// The decoder's error quotes no input, but a position in a key is no use to
			// anyone either, so it is dropped.
			return nil, fmt.Errorf("%w: entry %d is not standard base64", ErrInvalidKeys, pos)
		}
		if len(raw) != KeySize {
			return nil, fmt.Errorf("%w: entry %d is %d bytes, not %d", ErrInvalidKeys, pos, len(raw), KeySize)
		}
		k, err := newRingKey(raw)
		clear(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d: %v", ErrInvalidKeys, pos, err)
		}
		if first, ok := seen[k.id]; ok {
			// The same key twice is a slip worth pointing out; two keys sharing an id
			// would make Open pick one of them blindly.
			return nil, fmt.Errorf("%w: entry %d has the same key id as entry %d", ErrInvalidKeys, pos, first)
		}
		seen[k.id] = pos
		r.keys = append(r.keys, k)
	}
	return r, nil
}

// GenerateKey returns a fresh random key in the form NOTIFICATIONS_SECRETS_KEY takes.
func GenerateKey() (string, error) {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	s := base64.StdEncoding.EncodeToString(raw)
	clear(raw)
	return s, nil
}

func newRingKey(raw []byte) (ringKey, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return ringKey{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return ringKey{}, err
	}
	return ringKey{id: keyID(raw), aead: aead}, nil
}

// keyID is the first 8 hex digits of the SHA-256 of the raw key.
func keyID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])[:keyIDLen]
}

// PrimaryID returns the id of the key that seals, for logs and for a re-encryption command
// to report what it rewrapped to.
func (r *Keyring) PrimaryID() string { return r.keys[0].id }

// IDs returns the ids of every key in the ring, the sealing key first.
func (r *Keyring) IDs() []string {
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

func (r *Keyring) lookup(id string) (ringKey, bool) {
	for _, k := range r.keys {
		if k.id == id {
			return k, true
		}
	}
	return ringKey{}, false
}

// String describes the ring by its key ids only. It and Format and LogValue have value
// receivers so that a copy of a Keyring prints as safely as a pointer to one.
func (r Keyring) String() string {
	return "secretbox.Keyring{" + strings.Join(r.IDs(), ",") + "}"
}

// Format prints the ring as String does, whatever the verb. The AES key schedule inside
// begins with the key itself; fmt does not follow the pointer to it today, but what a
// printed ring shows should not depend on how the standard library lays out its ciphers.
func (r Keyring) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte(r.String()))
}

// LogValue logs the ring as its key ids, for the same reason as Format.
func (r Keyring) LogValue() slog.Value {
	return slog.StringValue(r.String())
}

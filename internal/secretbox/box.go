package secretbox

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// version1 is the only token format so far: AES-256-GCM, 12-byte random nonce, 16-byte tag.
const version1 = "v1"

const (
	nonceSize = 12
	tagSize   = 16
)

// headerLen is the length of "v1.<key id>.", the prefix that is authenticated along with
// the caller's aad. It is fixed, so header and aad cannot be re-split to mean something else.
const headerLen = len(version1) + 1 + keyIDLen + 1

var payloadEncoding = base64.RawURLEncoding.Strict()

// ErrUnknownKey is returned by Open and Rewrap when a token names a key that is not in the
// ring: it was sealed under a key since removed from NOTIFICATIONS_SECRETS_KEY.
var ErrUnknownKey = errors.New("secretbox: sealed under a key that is not in " + EnvVar +
	"; add the old key to " + EnvVar + " (after the first) and re-encrypt")

// ErrCorrupt is returned by Open and Rewrap when a token is malformed or fails
// authentication: it was altered, truncated, or is being opened with other aad than it was
// sealed with (another row or field).
var ErrCorrupt = errors.New("secretbox: secret is corrupt or does not belong here")

// Seal encrypts plaintext under the ring's first key and returns a text token. The aad
// is authenticated, not stored: Open must be given the same bytes. It should identify where
// the token is stored (tenant, destination, field) so that it cannot be moved elsewhere.
func (r *Keyring) Seal(plaintext, aad []byte) (string, error) {
	k := r.keys[0]
	nonce := make([]byte, nonceSize, nonceSize+len(plaintext)+tagSize)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal secret: %w", err)
	}
	header := version1 + "." + k.id + "."
	sealed := k.aead.Seal(nonce, nonce, plaintext, additionalData(header, aad))
	return header + payloadEncoding.EncodeToString(sealed), nil
}

// Open decrypts a token made by Seal with the same aad, using the key its id names. It
// fails with ErrUnknownKey if no key in the ring has that id, and with ErrCorrupt if the
// token is malformed, altered, or sealed with other aad. Its errors carry at most the key id,
// never plaintext or key material.
func (r *Keyring) Open(token string, aad []byte) ([]byte, error) {
	t, err := parseToken(token)
	if err != nil {
		return nil, err
	}
	k, ok := r.lookup(t.keyID)
	if !ok {
		return nil, fmt.Errorf("%w (key id %s)", ErrUnknownKey, t.keyID)
	}
	plaintext, err := k.aead.Open(nil, t.payload[:nonceSize], t.payload[nonceSize:], additionalData(t.header, aad))
	if err != nil {
		return nil, ErrCorrupt
	}
	return plaintext, nil
}

// NeedsRewrap reports whether token should be rewrapped: true unless it is a current-format
// token naming the ring's first key. A malformed token or one under an unknown key also
// reports true, so that a re-encryption pass calls Rewrap on it and surfaces its error
// rather than skipping it in silence.
func (r *Keyring) NeedsRewrap(token string) bool {
	t, err := parseToken(token)
	return err != nil || t.keyID != r.keys[0].id
}

// Rewrap opens token with aad and seals its plaintext again under the ring's first key,
// with the same aad. A token already under the first key is verified and returned as it is,
// so a re-encryption pass that is run twice writes nothing the second time.
func (r *Keyring) Rewrap(token string, aad []byte) (string, error) {
	plaintext, err := r.Open(token, aad)
	if err != nil {
		return "", err
	}
	defer clear(plaintext)
	if !r.NeedsRewrap(token) {
		return token, nil
	}
	return r.Seal(plaintext, aad)
}

type token struct {
	header  string // "v1.<key id>."
	keyID   string
	payload []byte // nonce | ciphertext | tag
}

func parseToken(s string) (token, error) {
	if len(s) < headerLen || s[:len(version1)+1] != version1+"." || s[headerLen-1] != '.' {
		return token{}, ErrCorrupt
	}
	id := s[len(version1)+1 : headerLen-1]
	if !isLowerHex(id) {
		return token{}, ErrCorrupt
	}
	enc := s[headerLen:]
	// The decoder skips newlines; refusing them keeps one text per sealed value.
	if strings.ContainsAny(enc, "\r\n") {
		return token{}, ErrCorrupt
	}
	payload, err := payloadEncoding.DecodeString(enc)
	if err != nil || len(payload) < nonceSize+tagSize {
		return token{}, ErrCorrupt
	}
	return token{header: s[:headerLen], keyID: id, payload: payload}, nil
}

func additionalData(header string, aad []byte) []byte {
	b := make([]byte, 0, len(header)+len(aad))
	b = append(b, header...)
	return append(b, aad...)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

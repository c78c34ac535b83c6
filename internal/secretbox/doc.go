// Package secretbox encrypts secrets at rest: the tokens, passwords and signing secrets of
// tenant destinations, which sit in the database beside everything else and must be useless
// to anyone who reads a dump or a backup without the key.
//
// # Keys
//
// NOTIFICATIONS_SECRETS_KEY is a comma-separated list of keys, each 32 random bytes in
// standard base64 (GenerateKey makes one). ParseKeys turns it into a Keyring. The first key
// seals everything new; every key in the list opens what it sealed. The embedded
// single-machine default has no operator to set the variable, so LoadOrCreateKeyFile keeps
// a key in secrets.key in its data directory, created on first start.
//
// # Tokens
//
// Seal answers a text token that fits in a TEXT column:
//
//	v1.<key id>.<base64url(nonce | ciphertext | tag)>
//
// v1 is the format: AES-256-GCM with a random 12-byte nonce and a 16-byte tag, in unpadded
// URL-safe base64. The key id is the first 8 hex digits of the SHA-256 of the raw 32-byte
// key. It names the key without revealing it, so Open goes straight to the right key and can
// say which one is missing; an operator can compute it with
//
//	printf %s "$KEY" | base64 -d | sha256sum | cut -c1-8
//
// The caller's additional data (aad) is authenticated but not stored: Seal and Open must be
// given the same bytes. Callers pass what identifies the row and field, such as
// "tenant/destination/config.secret", so that a ciphertext copied into another row or field
// fails to open instead of handing one tenant's secret to another. The token's own
// "v1.<key id>." prefix is authenticated too.
//
// A random 96-bit nonce is safe for about 2^32 seals under one key, far more than a
// configuration table will ever see between rotations.
//
// # Rotation
//
// To rotate, generate a key and put it first, keeping the old one after it:
// NOTIFICATIONS_SECRETS_KEY=new,old. New secrets are sealed under the new key and old ones
// still open. A re-encryption pass then walks every token, calling Rewrap on those for which
// NeedsRewrap reports true, and writes the result back; once it has finished, the old key
// can be removed. A token sealed under a key that is no longer in the list fails with
// ErrUnknownKey, whose message says to put the old key back.
package secretbox

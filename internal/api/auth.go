package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/heraldhq/herald/internal/store"
)

// access is what a route requires of its caller.
type access int

const (
	// public routes need no credential (the OpenAPI document).
	public access = iota
	// anyCredential routes take the admin token or any tenant key (the event type catalog).
	anyCredential
	// tenantScoped routes live under /v1/tenants/{tenant}/: the admin token, or a key of
	// that tenant.
	tenantScoped
	// adminOnly routes take the admin token alone.
	adminOnly
)

// principal is who a request authenticated as: the admin, or a tenant through one of its
// keys.
type principal struct {
	admin  bool
	tenant string
	keyID  string
}

type principalKey struct{}

// authenticate checks the request's credential against what the route requires and returns
// an *Error for a refusal. A caller's IP that failed too often is refused before its
// credential is even looked at, so that guessing stays slow whatever it guesses.
func (a *API) authenticate(r *http.Request, need access) (*http.Request, error) {
	if need == public {
		return r, nil
	}
	ip := clientIP(r)
	if err := a.failures.check(ip); err != nil {
		return r, err
	}
	cred := credential(r)
	viaSession := false
	if cred == "" {
		c, ok, err := a.sessionCredential(r)
		switch {
		case ok && errors.Is(err, errSessionExpired):
			// Not counted: an expired session is no guess.
			return r, errSessionEnded
		case ok && err != nil:
			a.failures.fail(ip)
			return r, errSessionEnded
		case ok:
			cred, viaSession = c, true
		}
	}
	if cred == "" {
		// Not counted as a failure: nothing was guessed.
		return r, errUnauthorized
	}
	if viaSession {
		if err := checkCSRF(r); err != nil {
			return r, err
		}
	}
	p, err := a.identify(r.Context(), cred)
	if err != nil {
		if errors.Is(err, errUnauthorized) {
			a.failures.fail(ip)
		}
		return r, err
	}
	switch {
	case p.admin || need == anyCredential:
	case need == adminOnly:
		return r, errForbidden
	case need == tenantScoped && p.tenant != r.PathValue("tenant"):
		// Another tenant's resources do not exist as far as this key can tell.
		return r, notFound("not found")
	}
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), nil
}

// identify finds who cred belongs to: a tenant key (hk_...) by its hash in the database,
// else the admin token. A tenant key is looked up on every request, with no cache, so that a
// revocation holds on every replica as soon as it is committed.
func (a *API) identify(ctx context.Context, cred string) (principal, error) {
	if strings.HasPrefix(cred, KeyPrefix) && a.keys != nil {
		k, err := a.keys.KeyByHash(ctx, hashKey(cred))
		switch {
		case err == nil:
			return principal{tenant: k.Tenant, keyID: k.ID}, nil
		case !errors.Is(err, store.ErrNotFound):
			return principal{}, err
		}
		// Not a key: an operator's admin token may happen to start with hk_ too.
	}
	// Comparing hashes of equal length keeps the comparison's time from telling the
	// token's length, as ConstantTimeCompare on the raw strings would.
	if a.adminHash != nil {
		h := sha256.Sum256([]byte(cred))
		if subtle.ConstantTimeCompare(h[:], a.adminHash) == 1 {
			return principal{admin: true}, nil
		}
	}
	return principal{}, errUnauthorized
}

// credential returns the token of "Authorization: Bearer <token>" or of X-Admin-Token. A
// request with neither may carry a session cookie instead (see sessions).
func credential(r *http.Request) string {
	if v := r.Header.Get("Authorization"); v != "" {
		scheme, token, ok := strings.Cut(v, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
		return ""
	}
	return strings.TrimSpace(r.Header.Get("X-Admin-Token"))
}

// principalOf returns who the request authenticated as.
func principalOf(r *http.Request) principal {
	p, _ := r.Context().Value(principalKey{}).(principal)
	return p
}

// hashKey is how a tenant key is stored and looked up: its SHA-256. A tenant key is 32
// random bytes, too many to guess or to search a table of, so a slow password hash (bcrypt,
// argon2) would add nothing but a cost on every request; and an unsalted hash lets a request
// find its key with one index lookup.
func hashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

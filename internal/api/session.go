package api

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SessionCookie is the cookie of a browser session, set by POST /ui/login.
const SessionCookie = "herald_session"

// SessionMaxAge is how long a browser session lasts: the cookie's Max-Age, and the expiry
// sealed inside it, which the server checks whatever the browser does with Max-Age.
const SessionMaxAge = 12 * time.Hour

// CSRFHeader must be "1" on every unsafe request (POST, PATCH, PUT, DELETE) that a session
// cookie authenticates: a cross-site form cannot set a header, and a cross-site script may
// set one only after a CORS preflight, which this API never grants.
const CSRFHeader = "X-Herald-CSRF"

// maxSessionCookie bounds the cookie's value: browsers keep at most about 4 KB per cookie.
const maxSessionCookie = 3800

// sessionKeyInfo names what the key derived from the admin token is for, so that the same
// token can never yield the same key for another use.
const sessionKeyInfo = "herald browser session v1"

// sessions seals and opens session cookies.
//
// A session cookie is the credential the person logged in with (the admin token or a tenant
// key) and the session's expiry, sealed with AES-256-GCM under a key derived (HKDF-SHA256)
// from the admin token. So the cookie:
//   - works on every dispatcher replica, which all have the same admin token, with no
//     session store;
//   - is useless without the admin token if it leaks from a log or a proxy: it neither
//     shows the credential nor can be altered or forged (a changed byte fails
//     authentication), and it stops working at the expiry sealed inside it;
//   - is checked on every request like the credential it holds: a revoked tenant key ends
//     its sessions at once, and a new admin token ends every session.
//
// Logging out clears the cookie in the browser; a copy taken before works until its expiry,
// as the credential it holds would.
type sessions struct {
	aead cipher.AEAD
	now  func() time.Time
}

// sessionPayload is what a cookie seals.
type sessionPayload struct {
	Credential string `json:"c"`
	Expires    int64  `json:"e"` // Unix seconds
}

var (
	errSessionInvalid = errors.New("session cookie is not one this server sealed")
	errSessionExpired = errors.New("session expired")
)

// newSessions derives the sessions' key from the admin token; without an admin token there
// are no browser sessions (nil).
func newSessions(adminToken string, now func() time.Time) *sessions {
	if adminToken == "" {
		return nil
	}
	key, err := hkdf.Key(sha256.New, []byte(adminToken), nil, sessionKeyInfo, 32)
	if err != nil {
		panic(err) // only for a key length SHA-256 cannot give
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // 32 bytes is a valid AES key
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &sessions{aead: aead, now: now}
}

// seal returns the cookie value of a session of cred that starts now.
func (s *sessions) seal(cred string) (string, error) {
	plain, err := json.Marshal(sessionPayload{Credential: cred, Expires: s.now().Add(SessionMaxAge).Unix()})
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("session nonce: %w", err)
	}
	sealed := s.aead.Seal(nonce, nonce, plain, []byte(SessionCookie))
	clear(plain)
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// open returns the credential a cookie value holds: errSessionInvalid if this server did
// not seal it (altered, forged, or sealed under another admin token), errSessionExpired
// past its expiry.
func (s *sessions) open(value string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return "", errSessionInvalid
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(SessionCookie))
	if err != nil {
		return "", errSessionInvalid
	}
	var p sessionPayload
	if err := json.Unmarshal(plain, &p); err != nil || p.Credential == "" {
		return "", errSessionInvalid
	}
	if !s.now().Before(time.Unix(p.Expires, 0)) {
		return "", errSessionExpired
	}
	return p.Credential, nil
}

// sessionCredential returns the credential of the request's session cookie, if it has one
// and no credential header. ok is false without a cookie.
func (a *API) sessionCredential(r *http.Request) (cred string, ok bool, err error) {
	if r.Header.Get("Authorization") != "" || r.Header.Get("X-Admin-Token") != "" {
		return "", false, nil
	}
	c, cerr := r.Cookie(SessionCookie)
	if cerr != nil || c.Value == "" {
		return "", false, nil
	}
	if a.sessions == nil {
		return "", true, errSessionInvalid
	}
	cred, err = a.sessions.open(c.Value)
	return cred, true, err
}

// checkCSRF refuses an unsafe request authenticated by a session cookie unless it carries
// CSRFHeader and, if it names one, the server's own Origin.
func checkCSRF(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if r.Header.Get(CSRFHeader) != "1" {
		return &Error{Status: http.StatusForbidden, Code: CodeForbidden,
			Message: "a request authenticated by the session cookie must send the header " + CSRFHeader + ": 1"}
	}
	if !sameOrigin(r) {
		return errForeignOrigin
	}
	return nil
}

var errForeignOrigin = &Error{Status: http.StatusForbidden, Code: CodeForbidden,
	Message: "the request's Origin is not this server's"}

// sameOrigin reports whether the request's Origin, when it has one, names the host it was
// sent to. The scheme is not compared: behind a proxy that ends TLS the browser's https
// origin reaches the server over http, and one host and port serve one scheme.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false // "null" (a sandboxed frame, a privacy redirect) is nobody's origin
	}
	return strings.EqualFold(withoutDefaultPort(u.Host), withoutDefaultPort(r.Host))
}

func withoutDefaultPort(host string) string {
	if h, ok := strings.CutSuffix(host, ":80"); ok {
		return h
	}
	if h, ok := strings.CutSuffix(host, ":443"); ok {
		return h
	}
	return host
}

// whoamiBody is the answer of GET /v1/whoami and of a JSON login.
type whoamiBody struct {
	Admin  bool   `json:"admin"`
	Tenant string `json:"tenant"`
}

func (a *API) whoami(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	writeJSON(w, http.StatusOK, whoamiBody{Admin: p.admin, Tenant: p.tenant})
	return nil
}

// loginInput is the JSON body of POST /ui/login.
type loginInput struct {
	Token string `json:"token"`
}

// The pages a form login and a logout send the browser to.
const (
	pathDashboard    = "/ui/"
	pathLogin        = "/ui/login"
	pathLoginFailed  = "/ui/login?error=1"
	pathLoginLimited = "/ui/login?error=rate_limited"
)

// login starts a browser session: POST /ui/login with a form (field token) or JSON
// {"token"}. A form is answered with redirects (to the dashboard, or back to the login page
// with error=1), JSON with the session's principal or an error. A wrong credential counts
// as a failed authentication of the client's address, as on every other path.
func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	form := isForm(r)
	if !sameOrigin(r) {
		return errForeignOrigin
	}
	ip := clientIP(r)
	if err := a.failures.check(ip); err != nil {
		if form {
			redirect(w, r, pathLoginLimited)
			return nil
		}
		return err
	}
	token, err := loginToken(w, r, form)
	if err != nil {
		return err
	}
	if a.sessions == nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Message: "browser sessions need the admin token (NOTIFICATIONS_ADMIN_TOKEN) to be set on this server"}
	}
	if token == "" {
		if form {
			redirect(w, r, pathLoginFailed)
			return nil
		}
		return invalid("token", "an admin token or a tenant key is required")
	}
	p, err := a.identify(r.Context(), token)
	if errors.Is(err, errUnauthorized) {
		a.failures.fail(ip)
		if form {
			redirect(w, r, pathLoginFailed)
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	value, err := a.sessions.seal(token)
	if err != nil {
		return err
	}
	if len(value) > maxSessionCookie {
		return invalid("token", "too long to keep in a browser session")
	}
	http.SetCookie(w, sessionCookie(r, value, int(SessionMaxAge/time.Second)))
	if form {
		redirect(w, r, pathDashboard)
		return nil
	}
	writeJSON(w, http.StatusOK, whoamiBody{Admin: p.admin, Tenant: p.tenant})
	return nil
}

// logout ends the browser's session: it clears the cookie and sends the browser to the
// login page. It needs no credential, so that an expired session can log out too, and no
// CSRF header, so that a plain form can send it; a foreign Origin is refused.
func (a *API) logout(w http.ResponseWriter, r *http.Request) error {
	if !sameOrigin(r) {
		return errForeignOrigin
	}
	http.SetCookie(w, sessionCookie(r, "", -1))
	redirect(w, r, pathLogin)
	return nil
}

// sessionCookie is the cookie that holds value for maxAge seconds (negative: delete it).
func sessionCookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     SessionCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
		// X-Forwarded-Proto only ever adds Secure: a client that lies about it loses its own
		// cookie over plain http, and gains nothing.
		Secure: r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"),
	}
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// isForm reports whether the request's body is an HTML form.
func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

// loginToken reads the token of a login form or JSON body.
func loginToken(w http.ResponseWriter, r *http.Request, form bool) (string, error) {
	if form {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return "", &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
					Message: fmt.Sprintf("body: larger than %d bytes", MaxBodyBytes)}
			}
			return "", invalid("body", "not a form")
		}
		return strings.TrimSpace(r.PostForm.Get("token")), nil
	}
	var in loginInput
	if err := decode(w, r, &in, false); err != nil {
		return "", err
	}
	return strings.TrimSpace(in.Token), nil
}

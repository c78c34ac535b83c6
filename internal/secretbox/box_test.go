package secretbox

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	r := newRing(t, newKey(t))
	cases := []struct {
		name      string
		plaintext []byte
		aad       []byte
	}{
		{"empty", []byte{}, []byte("t1/d1/secret")},
		{"text", []byte("whsec_c2VjcmV0"), []byte("t1/d1/secret")},
		{"binary", []byte{0, 1, 2, 0xff, '.', '\n'}, []byte("t1/d1/token")},
		{"large", bytes.Repeat([]byte("abcdefgh"), 8<<10), []byte("t1/d1/url")},
		{"nil aad", []byte("hunter2"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := r.Seal(tc.plaintext, tc.aad)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if !strings.HasPrefix(tok, "v1."+r.PrimaryID()+".") {
				t.Errorf("token %q lacks its header", tok)
			}
			if len(tc.plaintext) > 0 && strings.Contains(tok, string(tc.plaintext)) {
				t.Errorf("token contains the plaintext")
			}
			again, err := r.Seal(tc.plaintext, tc.aad)
			if err != nil {
				t.Fatal(err)
			}
			if again == tok {
				t.Error("sealing twice gave the same token; the nonce is not random")
			}
			got, err := r.Open(tok, tc.aad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tc.plaintext) {
				t.Fatalf("Open = %q, want %q", got, tc.plaintext)
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	a, b := newKey(t), newKey(t)
	r := newRing(t, a, b)
	other := newRing(t, newKey(t))
	plaintext := []byte("s3cret-token-value")
	aad := []byte("tenant-a/dest-1/secret")
	tok, err := r.Seal(plaintext, aad)
	if err != nil {
		t.Fatal(err)
	}
	header, payload := tok[:headerLen], tok[headerLen:]
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}

	cases := []struct {
		name  string
		ring  *Keyring
		token string
		aad   []byte
		want  error
	}{
		{"other row", r, tok, []byte("tenant-b/dest-1/secret"), ErrCorrupt},
		{"other field", r, tok, []byte("tenant-a/dest-1/url"), ErrCorrupt},
		{"no aad", r, tok, nil, ErrCorrupt},
		{"aad with a suffix", r, tok, append(append([]byte{}, aad...), 'x'), ErrCorrupt},
		{"payload first char", r, header + flip(payload, 0), aad, ErrCorrupt},
		{"payload middle char", r, header + flip(payload, len(payload)/2), aad, ErrCorrupt},
		{"payload truncated", r, tok[:len(tok)-4], aad, ErrCorrupt},
		{"payload extended", r, tok + "AAAA", aad, ErrCorrupt},
		{"payload with newline", r, tok[:len(tok)-4] + "\n" + tok[len(tok)-4:], aad, ErrCorrupt},
		{"payload padded", r, tok + "==", aad, ErrCorrupt},
		{"header names the other key", r, "v1." + r.IDs()[1] + "." + payload, aad, ErrCorrupt},
		{"version 2", r, "v2" + tok[2:], aad, ErrCorrupt},
		{"upper-case key id", r, "v1." + strings.ToUpper(r.PrimaryID()) + "." + payload, aad, ErrCorrupt},
		{"header only", r, header, aad, ErrCorrupt},
		{"too short for nonce and tag", r, header + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", aad, ErrCorrupt},
		{"empty", r, "", aad, ErrCorrupt},
		{"plain text", r, "hunter2", aad, ErrCorrupt},
		{"not in this ring", other, tok, aad, ErrUnknownKey},
		{"unknown key id", r, "v1.00000000." + payload, aad, ErrUnknownKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.ring.Open(tc.token, tc.aad)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open = %q, %v; want %v", got, err, tc.want)
			}
			if got != nil {
				t.Errorf("Open returned %q beside its error", got)
			}
			msg := err.Error()
			for _, leak := range []string{string(plaintext), a, b, payload} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q contains a secret or the token", msg)
				}
			}
			if _, err := tc.ring.Rewrap(tc.token, tc.aad); !errors.Is(err, tc.want) {
				t.Errorf("Rewrap: %v, want %v", err, tc.want)
			}
		})
	}
}

// Every single-bit change anywhere in the sealed bytes must fail authentication.
func TestOpenRejectsEveryBitFlip(t *testing.T) {
	t.Parallel()
	r := newRing(t, newKey(t))
	aad := []byte("t/d/f")
	tok, err := r.Seal([]byte("secret"), aad)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := payloadEncoding.DecodeString(tok[headerLen:])
	if err != nil {
		t.Fatal(err)
	}
	for i := range sealed {
		for bit := range 8 {
			b := bytes.Clone(sealed)
			b[i] ^= 1 << bit
			bad := tok[:headerLen] + payloadEncoding.EncodeToString(b)
			if _, err := r.Open(bad, aad); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("byte %d bit %d flipped: Open err = %v, want ErrCorrupt", i, bit, err)
			}
		}
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKeyValue := newKey(t), newKey(t)
	oldRing := newRing(t, oldKey)
	rotating := newRing(t, newKeyValue, oldKey)
	newOnly := newRing(t, newKeyValue)
	aad := []byte("t1/d1/secret")
	plaintext := []byte("xoxb-slack-token")

	oldTok, err := oldRing.Seal(plaintext, aad)
	if err != nil {
		t.Fatal(err)
	}
	if oldRing.NeedsRewrap(oldTok) {
		t.Error("a token under the only key needs rewrapping")
	}
	if got, err := rotating.Open(oldTok, aad); err != nil || !bytes.Equal(got, plaintext) {
		t.Fatalf("new,old ring opens old token: %q, %v", got, err)
	}
	if !rotating.NeedsRewrap(oldTok) {
		t.Fatal("a token under the second key does not need rewrapping")
	}
	if _, err := rotating.Rewrap(oldTok, []byte("t2/d1/secret")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Rewrap with another row's aad: %v, want ErrCorrupt", err)
	}
	newTok, err := rotating.Rewrap(oldTok, aad)
	if err != nil {
		t.Fatalf("Rewrap: %v", err)
	}
	if rotating.NeedsRewrap(newTok) {
		t.Error("a rewrapped token still needs rewrapping")
	}
	if !strings.HasPrefix(newTok, "v1."+newOnly.PrimaryID()+".") {
		t.Errorf("rewrapped token %q is not under the new key", newTok)
	}
	if again, err := rotating.Rewrap(newTok, aad); err != nil || again != newTok {
		t.Errorf("Rewrap of a current token = %q, %v; want it unchanged", again, err)
	}
	if got, err := newOnly.Open(newTok, aad); err != nil || !bytes.Equal(got, plaintext) {
		t.Fatalf("new key alone opens rewrapped token: %q, %v", got, err)
	}
	if _, err := newOnly.Open(oldTok, aad); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("new key alone opens old token: %v, want ErrUnknownKey", err)
	}
}

func TestUnknownKeyErrorNamesTheFix(t *testing.T) {
	t.Parallel()
	oldKey := newKey(t)
	oldRing := newRing(t, oldKey)
	tok, err := oldRing.Seal([]byte("secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = newRing(t, newKey(t)).Open(tok, nil)
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	msg := err.Error()
	for _, want := range []string{"add the old key to NOTIFICATIONS_SECRETS_KEY", oldRing.PrimaryID()} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, oldKey) {
		t.Errorf("error %q contains the key", msg)
	}
}

func TestNeedsRewrap(t *testing.T) {
	t.Parallel()
	first, second := newKey(t), newKey(t)
	r := newRing(t, first, second)
	underFirst, _ := newRing(t, first).Seal([]byte("a"), nil)
	underSecond, _ := newRing(t, second).Seal([]byte("a"), nil)
	underUnknown, _ := newRing(t, newKey(t)).Seal([]byte("a"), nil)
	cases := []struct {
		name  string
		token string
		want  bool
	}{
		{"first key", underFirst, false},
		{"second key", underSecond, true},
		{"unknown key", underUnknown, true},
		{"malformed", "garbage", true},
		{"empty", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := r.NeedsRewrap(tc.token); got != tc.want {
				t.Fatalf("NeedsRewrap = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestKeyringConcurrentUse(t *testing.T) {
	t.Parallel()
	r := newRing(t, newKey(t), newKey(t))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			aad := []byte{byte(i)}
			for range 200 {
				tok, err := r.Seal(aad, aad)
				if err != nil {
					errs <- err
					return
				}
				if got, err := r.Open(tok, aad); err != nil || !bytes.Equal(got, aad) {
					errs <- errors.New("round trip failed under concurrency")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func FuzzOpen(f *testing.F) {
	first, second := newKey(f), newKey(f)
	r := newRing(f, first, second)
	aad := []byte("t/d/f")
	good, _ := r.Seal([]byte("secret"), aad)
	old, _ := newRing(f, second).Seal([]byte("older"), aad)
	for _, seed := range []string{
		good, old, good[:headerLen], good + "=", "v1." + r.PrimaryID() + ".", "v1........",
		"v1.zzzzzzzz.AAAA", "v2." + good[3:], "", ".", "v1", strings.Repeat("A", 100),
	} {
		f.Add(seed, aad)
	}
	f.Fuzz(func(t *testing.T, token string, aad []byte) {
		got, err := r.Open(token, aad)
		_ = r.NeedsRewrap(token)
		if err != nil {
			if got != nil {
				t.Fatal("Open returned plaintext beside an error")
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("Open error %v is neither ErrCorrupt nor ErrUnknownKey", err)
			}
			return
		}
		// Only a token Seal made can open, and it has exactly one spelling.
		if token != good && token != old {
			t.Fatalf("Open accepted a token Seal did not make: %q", token)
		}
		rewrapped, err := r.Rewrap(token, aad)
		if err != nil {
			t.Fatalf("Rewrap of an openable token: %v", err)
		}
		if again, err := r.Open(rewrapped, aad); err != nil || !bytes.Equal(again, got) {
			t.Fatalf("rewrapped token opens to %q, %v; want %q", again, err, got)
		}
	})
}

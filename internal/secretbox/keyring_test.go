package secretbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// newKey returns a fresh key in the form NOTIFICATIONS_SECRETS_KEY takes.
func newKey(t testing.TB) string {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newRing parses keys joined by commas, failing the test if they do not parse.
func newRing(t testing.TB, keys ...string) *Keyring {
	t.Helper()
	r, err := ParseKeys(strings.Join(keys, ","))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	k1, k2 := newKey(t), newKey(t)
	short := base64.StdEncoding.EncodeToString([]byte("sixteen byte key"))
	long := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), 33))
	unpadded := strings.TrimRight(k1, "=")
	urlsafe := base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16)) // has - and _

	cases := []struct {
		name    string
		value   string
		wantErr string // "" for success
		ids     int
	}{
		{"one key", k1, "", 1},
		{"two keys with spaces", " " + k1 + " , " + k2 + " ", "", 2},
		{"empty", "", "it is empty", 0},
		{"blank", "  \t", "it is empty", 0},
		{"trailing comma", k1 + ",", "entry 2 is empty", 0},
		{"leading comma", "," + k1, "entry 1 is empty", 0},
		{"not base64", k1 + ",not base64!", "entry 2 is not standard base64", 0},
		{"unpadded", unpadded, "entry 1 is not standard base64", 0},
		{"url alphabet", urlsafe, "entry 1 is not standard base64", 0},
		{"too short", k1 + "," + k2 + "," + short, "entry 3 is 16 bytes, not 32", 0},
		{"too long", long, "entry 1 is 33 bytes, not 32", 0},
		{"repeated", k1 + "," + k2 + "," + k1, "entry 3 has the same key id as entry 1", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := ParseKeys(tc.value)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseKeys: %v", err)
				}
				if got := len(r.IDs()); got != tc.ids {
					t.Fatalf("got %d keys, want %d", got, tc.ids)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseKeys succeeded, want an error containing %q", tc.wantErr)
			}
			if !errors.Is(err, ErrInvalidKeys) {
				t.Errorf("error %q does not wrap ErrInvalidKeys", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), EnvVar) {
				t.Errorf("error %q does not name %s", err, EnvVar)
			}
			for _, secret := range []string{k1, k2, short, long, unpadded, urlsafe, "not base64"} {
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[:8]) {
					t.Errorf("error %q contains key material", err)
				}
			}
		})
	}
}

func TestKeyIDIsSHA256Prefix(t *testing.T) {
	t.Parallel()
	raw := make([]byte, KeySize)
	for i := range raw {
		raw[i] = byte(i)
	}
	sum := sha256.Sum256(raw)
	want := hex.EncodeToString(sum[:4])
	r := newRing(t, base64.StdEncoding.EncodeToString(raw))
	if got := r.PrimaryID(); got != want {
		t.Fatalf("PrimaryID = %q, want %q", got, want)
	}
	tok, err := r.Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if prefix := "v1." + want + "."; !strings.HasPrefix(tok, prefix) {
		t.Fatalf("token %q does not start with %q", tok, prefix)
	}
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	a, b := newKey(t), newKey(t)
	if a == b {
		t.Fatal("two generated keys are equal")
	}
	raw, err := base64.StdEncoding.DecodeString(a)
	if err != nil || len(raw) != KeySize {
		t.Fatalf("generated key decodes to %d bytes, err %v", len(raw), err)
	}
	newRing(t, a, b)
}

// The AES-256 key schedule held inside the ring starts with the key itself, so no way of
// printing or logging a ring may reach it.
func TestKeyringPrintsNoKeyMaterial(t *testing.T) {
	t.Parallel()
	k := newKey(t)
	raw, _ := base64.StdEncoding.DecodeString(k)
	r := newRing(t, k)
	leaks := []string{k, hex.EncodeToString(raw[:4]), string(raw[:8]), fmt.Sprint(raw[:4])[1:10]}

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("ring", "keys", r)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("ring", "keys", *r)

	outputs := map[string]string{"log": logged.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		outputs[verb+" pointer"] = fmt.Sprintf(verb, r)
		outputs[verb+" value"] = fmt.Sprintf(verb, *r)
	}
	for name, out := range outputs {
		if !strings.Contains(out, r.PrimaryID()) {
			t.Errorf("%s: %q does not show the key id", name, out)
		}
		for _, leak := range leaks {
			if strings.Contains(out, leak) {
				t.Errorf("%s: %q contains key material", name, out)
			}
		}
	}
}

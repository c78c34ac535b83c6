package channeltest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

// Golden compares got with the golden file at path, relative to the test's package, and
// fails the test where they differ. With update set (a test's -update flag), it first writes
// got to the file, creating its directory. It returns the file's content.
//
// Each package declares its own flag, var update = flag.Bool("update", false, "…"): a flag
// registered here would clash with the packages that have one.
func Golden(t testing.TB, path string, got []byte, update bool) []byte {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
			return nil
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
			return nil
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test %s -update)", err, packageArg())
		return nil
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test %s -update if the change is intended):\ngot:\n%s\nwant:\n%s",
			path, packageArg(), got, want)
	}
	return want
}

// GoldenJSON is Golden for a JSON body, kept in the file indented by two spaces and ending in
// a newline, so that a change reads line by line in a diff. Indenting changes no string, so
// the files are equal exactly when the bodies are equal up to white space between tokens.
func GoldenJSON(t testing.TB, path string, body []byte, update bool) []byte {
	t.Helper()
	var got bytes.Buffer
	if err := json.Indent(&got, body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v\n%.2000s", err, body)
		return nil
	}
	got.WriteByte('\n')
	return Golden(t, path, got.Bytes(), update)
}

// CheckCompactJSON fails the test unless body is compact JSON, so that a body compared with
// GoldenJSON is pinned byte for byte.
func CheckCompactJSON(t testing.TB, body []byte) {
	t.Helper()
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil || !bytes.Equal(compact.Bytes(), body) {
		t.Fatalf("body is not compact JSON (%v)", err)
	}
}

// packageArg returns the test's package as go test takes it ("./internal/channel/slack"),
// from the working directory go test runs a test in, or "." if it is outside the module.
func packageArg() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil || rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "."
		}
		dir = parent
	}
}

// GoldenPreviews pins the exact body ch previews for each render sample sent to d, in a
// parallel subtest named after the sample's type: the body must pass check (the provider's
// contract, when check is not nil), be compact JSON, and equal testdata/golden/<type>.json
// indented (GoldenJSON; update rewrites the files).
func GoldenPreviews(t *testing.T, ch channel.Previewer, d channel.Destination, check func(t testing.TB, body []byte), update bool) {
	t.Helper()
	for _, ev := range render.Samples() {
		t.Run(ev.Type, func(t *testing.T) {
			t.Parallel()
			pv, err := ch.Preview(channel.Notification{DeliveryID: ev.ID + ":golden", Attempt: 1, Event: ev, Destination: d})
			if err != nil {
				t.Fatal(err)
			}
			if check != nil {
				check(t, pv.Body)
			}
			CheckCompactJSON(t, pv.Body)
			GoldenJSON(t, filepath.Join("testdata", "golden", ev.Type+".json"), pv.Body, update)
		})
	}
}

package config

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestVarsAreWhatLoadReads fails when Load reads a variable that Vars does not document, or
// Vars documents one that Load never reads: "herald env" prints Vars.
func TestVarsAreWhatLoadReads(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	read := map[string]bool{}
	if _, err := Load(func(k string) string {
		mu.Lock()
		defer mu.Unlock()
		read[k] = true
		return ""
	}, ":8080"); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, v := range Vars(":8080") {
		if documented[v.Name] {
			t.Errorf("%s is listed twice", v.Name)
		}
		documented[v.Name] = true
		if v.Doc == "" {
			t.Errorf("%s has no meaning", v.Name)
		}
	}
	for name := range read {
		if !documented[name] {
			t.Errorf("Load reads %s, which Vars does not list: add it to general in vars.go", name)
		}
	}
	for _, v := range general {
		if !read[v.Name] {
			t.Errorf("Vars lists %s, which Load does not read", v.Name)
		}
	}
}

// TestVarsDefaultsAreLoads checks each literal default: setting a variable to the default
// Vars prints must load the same configuration as leaving it unset.
func TestVarsDefaultsAreLoads(t *testing.T) {
	t.Parallel()
	base, err := Load(getenv(nil), ":8080")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Vars(":8080") {
		if v.Computed || v.Default == "" {
			continue
		}
		c, err := Load(getenv(map[string]string{v.Name: v.Default}), ":8080")
		if err != nil {
			t.Errorf("%s=%s (its documented default): %v", v.Name, v.Default, err)
			continue
		}
		if !reflect.DeepEqual(c, base) {
			t.Errorf("%s=%s (its documented default) loads another configuration than leaving it unset", v.Name, v.Default)
		}
	}
}

func TestPrintVars(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := PrintVars(&b, ":8081"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != len(Vars(":8081"))+1 {
		t.Fatalf("%d lines for %d variables", len(lines), len(Vars(":8081")))
	}
	want := []string{"NOTIFICATIONS_HTTP_ADDR", ":8081", "NOTIFICATIONS_WEBHOOK_SECRET", "NOTIFICATIONS_MAX_RETRIES", "master switch"}
	for _, w := range want {
		if !strings.Contains(b.String(), w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if !slices.ContainsFunc(lines, func(l string) bool {
		return strings.HasPrefix(l, "NOTIFICATIONS_NATS_URL") && strings.Contains(l, " - ")
	}) {
		t.Errorf("a variable without a default does not show -:\n%s", b.String())
	}
}

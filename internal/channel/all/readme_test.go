package all_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/all"
)

var update = flag.Bool("update", false, "rewrite the README's table of channels' configuration")

const (
	readme     = "../../../README.md"
	tableBegin = "<!-- channels' configuration: made by go test ./internal/channel/all -update -->"
	tableEnd   = "<!-- end of channels' configuration -->"
)

// TestREADMEDocumentsEveryChannel: the README's table of channels' configuration is the
// registered providers' own description (their Spec), so that a new channel's fields and
// variables are documented by the channel itself. Regenerate it with -update.
func TestREADMEDocumentsEveryChannel(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start, end := strings.Index(doc, tableBegin), strings.Index(doc, tableEnd)
	if start < 0 || end < start {
		t.Fatalf("README.md lacks the markers %q and %q", tableBegin, tableEnd)
	}
	want := table()
	got := doc[start+len(tableBegin) : end]
	if got == want {
		return
	}
	if *update {
		doc = doc[:start+len(tableBegin)] + want + doc[end:]
		if err := os.WriteFile(readme, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's table of channels' configuration is out of date: run go test ./internal/channel/all -update\nwant:%s", want)
}

func table() string {
	var b strings.Builder
	b.WriteString("\n| channel | `config` field | operator's variable | tenant sets it | secret | meaning |\n|---|---|---|---|---|---|\n")
	for _, p := range all.Providers() {
		s := p.Spec()
		fmt.Fprintf(&b, "| `%s` | | `%s` | | | `true` turns on the operator's destination (id `%s`) |\n", p.Name(), s.EnabledVar, p.Name())
		for _, f := range s.Fields {
			env := "-"
			if f.Env != "" {
				env = "`" + f.Env + "`"
			}
			doc := f.Doc
			if f.Default != "" {
				doc += "; default `" + f.Default + "`"
			}
			if f.Required {
				doc += "; required"
			}
			fmt.Fprintf(&b, "| | `%s` | %s | %s | %s | %s |\n", f.Name, env, yes(f.Tenant), secrecy(f.Secret), doc)
		}
	}
	return b.String()
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func secrecy(s channel.Secrecy) string {
	switch s {
	case channel.Secret:
		return "masked"
	case channel.SecretURL:
		return "token masked"
	}
	return ""
}

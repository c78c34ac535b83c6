package deploy

import (
	"bytes"
	"io"
	"maps"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/natsauth"
)

// docCommand finds the heraldctl commands docs/production.md and docs/runbook.md tell
// operators to run: up to a closing backtick, a table bar or a shell comment.
var docCommand = regexp.MustCompile("heraldctl((?: [^`|#\n]*)?)")

// TestDocsHeraldctlCommandsExist: every heraldctl command the production guide and the
// runbook show is one heraldctl has, with flags it takes. Each runs with --help (so nothing
// reaches a server), and its help must be the command's own, not a parent's.
func TestDocsHeraldctlCommandsExist(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "heraldctl")
	build := exec.Command("go", "build", "-o", bin, "./cmd/heraldctl")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/heraldctl: %v\n%s", err, out)
	}
	seen := 0
	for _, doc := range []string{"production.md", "runbook.md"} {
		for _, m := range docCommand.FindAllStringSubmatch(string(readFile(t, root, "docs", doc)), -1) {
			args := strings.Fields(m[1])
			for i, a := range args {
				args[i] = strings.Trim(a, `'"`)
			}
			// The command's path: its leading words, past the global flags with values.
			var path []string
			for i := 0; i < len(args); i++ {
				a := args[i]
				if a == "--url" || a == "--token" {
					i++
					continue
				}
				if strings.HasPrefix(a, "-") || strings.HasPrefix(a, "<") {
					break
				}
				path = append(path, a)
			}
			if len(path) == 0 {
				continue // heraldctl named in prose
			}
			seen++
			cmd := exec.Command(bin, append(args, "--help")...)
			cmd.Env = []string{"HOME=" + t.TempDir()}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("docs/%s: heraldctl%s: %v\n%s", doc, m[1], err, out)
				continue
			}
			if !strings.Contains(string(out), "heraldctl "+strings.Join(path, " ")) {
				t.Errorf("docs/%s: heraldctl%s: heraldctl has no command %q:\n%s", doc, m[1], strings.Join(path, " "), out)
			}
		}
	}
	if seen < 10 {
		t.Errorf("found only %d heraldctl commands in the docs", seen)
	}
}

// natsauthCommand finds a natsauth command in documentation and configuration comments: the
// words after the command's path, up to a closing backtick, a table bar or a comment.
var natsauthCommand = regexp.MustCompile("natsauth/cmd/natsauth((?: [^`|#\n]*)?)")

// TestDocsNatsauthCommandsExist: every natsauth command the guides, the README, the compose
// file and the NATS configuration's comments tell operators to run is one the command has
// (its usage lists it), with flags that command takes. Nothing runs: the commands write into
// deploy/ by default.
func TestDocsNatsauthCommandsExist(t *testing.T) {
	t.Parallel()
	var usage bytes.Buffer
	if code := natsauth.Main([]string{"help"}, nil, &usage, io.Discard); code != 0 {
		t.Fatalf("natsauth help: exit %d", code)
	}
	flags := map[string][]string{} // command: its flags, from the usage's synopsis lines
	for _, line := range strings.Split(usage.String(), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "natsauth" || !strings.HasPrefix(line, "  ") {
			continue
		}
		flags[f[1]] = regexp.MustCompile(`--[a-z]+`).FindAllString(line, -1)
	}
	if len(flags) < 3 {
		t.Fatalf("natsauth's usage lists %d commands: %v", len(flags), flags)
	}
	files := []string{"README.md", "docker-compose.yml", filepath.Join("docs", "production.md"), filepath.Join("docs", "security.md")}
	confs, _ := filepath.Glob(filepath.Join(root, "deploy", "nats", "*.conf"))
	more, _ := filepath.Glob(filepath.Join(root, "deploy", "nats", "tls", "*.conf"))
	for _, c := range append(confs, more...) {
		rel, _ := filepath.Rel(root, c)
		files = append(files, rel)
	}
	seen := 0
	for _, f := range files {
		for _, m := range natsauthCommand.FindAllStringSubmatch(string(readFile(t, root, f)), -1) {
			args := strings.Fields(m[1])
			if len(args) == 0 {
				continue
			}
			seen++
			known, ok := flags[args[0]]
			if !ok {
				t.Errorf("%s: natsauth%s: natsauth has no command %q (it has %v)", f, m[1], args[0], slices.Sorted(maps.Keys(flags)))
				continue
			}
			for _, a := range args[1:] {
				if name, _, _ := strings.Cut(a, "="); strings.HasPrefix(a, "--") && !slices.Contains(known, name) {
					t.Errorf("%s: natsauth%s: %s takes no %s", f, m[1], args[0], name)
				}
			}
		}
	}
	if seen < 5 {
		t.Errorf("found only %d natsauth commands in the docs", seen)
	}
}

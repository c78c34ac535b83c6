package deploy

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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

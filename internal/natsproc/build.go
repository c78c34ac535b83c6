package natsproc

import (
	"context"
	"path/filepath"

	"github.com/heraldhq/herald/internal/childproc"
)

// ServerPackage is the main package of nats-server, from the module version this module
// requires.
const ServerPackage = "github.com/nats-io/nats-server/v2"

// Build builds nats-server into dir and returns the binary's path. It runs the go command, so
// the current directory must be inside this module (a test's package directory or the
// module root); the build cache makes every build after the first take about a second.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "nats-server")
	if err := childproc.GoBuild(ctx, bin, ServerPackage); err != nil {
		return "", err
	}
	return bin, nil
}

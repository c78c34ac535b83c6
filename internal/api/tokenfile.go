package api

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// AdminTokenFile is the file in the data directory where the embedded default keeps the
// admin token it generated.
const AdminTokenFile = "admin.token"

// LoadOrCreateAdminToken returns the admin token kept in <dir>/admin.token, creating the
// file with a fresh token if it does not exist (created is then true), and the file's path.
// The single-machine default calls it when NOTIFICATIONS_ADMIN_TOKEN is unset, so that its
// API is protected from the first start without the operator setting anything, and the
// token survives restarts. Callers log the path, never the token.
//
// As the secrets key file (see package secretbox), the file is written to a temporary file
// (mode 0600), synced and linked into place, so that a crash never leaves half a token and
// two processes starting at once agree on one. An existing file that holds no token is an
// error rather than replaced: scripts may already use the token it held.
func LoadOrCreateAdminToken(dir string) (token, path string, created bool, err error) {
	path = filepath.Join(dir, AdminTokenFile)
	token, err = readTokenFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return token, path, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", path, false, fmt.Errorf("create admin token file: %w", err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", path, false, fmt.Errorf("generate admin token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	won, err := writeNewFile(dir, path, token)
	if err != nil {
		return "", path, false, err
	}
	if !won {
		token, err = readTokenFile(path)
		return token, path, false, err
	}
	return token, path, true, nil
}

func readTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read admin token file: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", fmt.Errorf("admin token file %s holds no token: write one line, or remove the file to get a new token", path)
	}
	return token, nil
}

// writeNewFile puts value into path unless path already exists, and reports whether it did.
func writeNewFile(dir, path, value string) (bool, error) {
	tmp, err := os.CreateTemp(dir, "."+AdminTokenFile+".*.tmp") // mode 0600
	if err != nil {
		return false, fmt.Errorf("create admin token file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a link, only the extra name goes
	_, err = tmp.WriteString(value + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("write admin token file: %w", err)
	}
	// A link fails if path exists, where a rename would replace a token another process
	// has just created and perhaps already shown to its operator.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		if err := os.Rename(tmp.Name(), path); err != nil { // no hard links on this file system
			return false, fmt.Errorf("write admin token file: %w", err)
		}
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the new name durable; best effort where directories cannot sync
		_ = d.Close()
	}
	return true, nil
}

package secretbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeyFileName is the file in the data directory that holds the embedded default's keys.
const KeyFileName = "secrets.key"

// LoadOrCreateKeyFile returns the keys kept in <dir>/secrets.key, in the form
// NOTIFICATIONS_SECRETS_KEY takes, creating the file with one fresh key if it does not
// exist (created is then true). The embedded single-machine default calls it on start, so
// that secrets are encrypted without the operator having to set anything.
//
// The file is written to a temporary file, synced, and linked into place, so a crash never
// leaves a half-written key and two processes starting at once agree on one key: the loser
// of the race reads the winner's file. It is created with mode 0600. A file that exists but
// does not parse is an error, never replaced: the secrets sealed under it would be lost.
func LoadOrCreateKeyFile(dir string) (value string, created bool, err error) {
	path := filepath.Join(dir, KeyFileName)
	value, err = readKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return value, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", false, fmt.Errorf("create key file: %w", err)
	}
	value, err = GenerateKey()
	if err != nil {
		return "", false, err
	}
	won, err := writeNew(dir, path, value)
	if err != nil {
		return "", false, err
	}
	if !won {
		value, err = readKeyFile(path)
		return value, false, err
	}
	return value, true, nil
}

func readKeyFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read key file: %w", err)
	}
	value := strings.TrimSpace(string(b))
	clear(b)
	if _, err := ParseKeys(value); err != nil {
		return "", fmt.Errorf("key file %s: %w", path, err)
	}
	return value, nil
}

// writeNew puts value into path unless path already exists, and reports whether it did.
func writeNew(dir, path, value string) (bool, error) {
	tmp, err := os.CreateTemp(dir, "."+KeyFileName+".*.tmp") // mode 0600
	if err != nil {
		return false, fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a link, only the extra name goes
	if _, err := tmp.WriteString(value + "\n"); err != nil {
		_ = tmp.Close()
		return false, fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return false, fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("write key file: %w", err)
	}
	// A link fails if path exists, where a rename would replace a key that another
	// process has just created and perhaps already sealed with.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		// A file system without hard links: fall back to a rename, atomic but not
		// exclusive.
		if err := os.Rename(tmp.Name(), path); err != nil {
			return false, fmt.Errorf("write key file: %w", err)
		}
	}
	if err := syncDir(dir); err != nil {
		return false, fmt.Errorf("write key file: %w", err)
	}
	return true, nil
}

// syncDir makes the new directory entry durable, so that a crash after secrets were sealed
// cannot lose the key they were sealed with.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

package natsauth

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nats-io/nkeys"
)

// User is a role's NATS user as a server knows it: its public key and permissions. It holds
// no secret.
type User struct {
	Role        Role
	PublicKey   string
	Permissions Permissions
}

// UserOf is the user of role whose public key is pub, with its permissions under prefix.
func UserOf(role Role, pub, prefix string) User {
	return User{Role: role, PublicKey: pub, Permissions: role.Permissions(prefix, pub)}
}

// SeedFile is where a role's seed is kept in a credentials directory: <dir>/<role>.nk.
func SeedFile(dir string, role Role) string { return filepath.Join(dir, role.Name()+".nk") }

// CredentialsDir is where the embedded default keeps its roles' seeds, under the data
// directory, so that the processes and the publisher CLI on the machine find them.
func CredentialsDir(dataDir string) string { return filepath.Join(dataDir, "nats-credentials") }

// NewSeed makes a new user nkey and returns its seed and public key.
func NewSeed() (seed []byte, pub string, err error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, "", fmt.Errorf("create nkey: %w", err)
	}
	defer kp.Wipe()
	s, err := kp.Seed()
	if err != nil {
		return nil, "", err
	}
	// Wipe clears the key pair's own seed, which Seed returns.
	seed = bytes.Clone(s)
	if pub, err = kp.PublicKey(); err != nil {
		return nil, "", err
	}
	return seed, pub, nil
}

// seedFileContents is a seed file: comments naming the role and its public key, then the
// seed on a line of its own, as nats.NkeyOptionFromSeed and nkeys.ParseDecoratedNKey read it.
func seedFileContents(role Role, pub string, seed []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Herald NATS credentials of the role %s: an nkey seed. Keep it secret.\n", role.Name())
	fmt.Fprintf(&b, "# Its public key, which the NATS server's configuration lists: %s\n", pub)
	b.Write(seed)
	b.WriteByte('\n')
	return b.Bytes()
}

// WriteSeed writes a new seed for role into dir (created 0700 if missing) with mode 0600, and
// returns its public key. It refuses to replace an existing file.
func WriteSeed(dir string, role Role) (pub string, err error) {
	if err := role.Validate(); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("credentials directory: %w", err)
	}
	seed, pub, err := NewSeed()
	if err != nil {
		return "", err
	}
	contents := seedFileContents(role, pub, seed)
	wipe(seed)
	defer wipe(contents)
	path := SeedFile(dir, role)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("write seed of %s: %w", role.Name(), err)
	}
	if _, err := f.Write(contents); err != nil {
		f.Close()
		os.Remove(path)
		return "", fmt.Errorf("write seed of %s: %w", role.Name(), err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("write seed of %s: %w", role.Name(), err)
	}
	return pub, nil
}

// PublicKeyOf reads a seed file (or a .creds file) and returns its user's public key. Errors
// name the file, never its contents.
func PublicKeyOf(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	defer wipe(b)
	kp, err := nkeys.ParseDecoratedUserNKey(b)
	if err != nil {
		return "", fmt.Errorf("%s holds no user nkey seed", path)
	}
	defer kp.Wipe()
	return kp.PublicKey()
}

// EnsureSeeds makes sure dir holds a seed for every role, writing the missing ones (mode
// 0600), and returns the users, in the order of roles, with their permissions under prefix.
// It is what the embedded default runs at every start: the first start generates the seeds,
// later ones read their public keys.
func EnsureSeeds(dir, prefix string, roles []Role) ([]User, error) {
	users := make([]User, 0, len(roles))
	for _, r := range roles {
		if err := r.Validate(); err != nil {
			return nil, err
		}
		pub, err := PublicKeyOf(SeedFile(dir, r))
		if errors.Is(err, fs.ErrNotExist) {
			pub, err = WriteSeed(dir, r)
		}
		if err != nil {
			return nil, fmt.Errorf("credentials of %s: %w", r.Name(), err)
		}
		users = append(users, UserOf(r, pub, prefix))
	}
	return users, nil
}

// EmbeddedRoles are the roles the embedded default's server knows, for the channels built
// into Herald: producer, dispatcher (which the herald process uses), admin, a worker of each
// channel, and a worker of all of them (for a channel-worker process delivering several).
func EmbeddedRoles(channels []string) []Role {
	roles := []Role{{Kind: Producer}, {Kind: Dispatcher}, {Kind: Admin}}
	if len(channels) == 0 {
		return roles
	}
	for _, c := range channels {
		roles = append(roles, WorkerOf(c))
	}
	return append(roles, AllWorkers(channels))
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 'x'
	}
}

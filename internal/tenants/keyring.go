package tenants

import (
	"fmt"

	"github.com/heraldhq/herald/internal/secretbox"
)

// KeySource says where LoadKeyring found the keys.
type KeySource string

// Where keys come from.
const (
	// KeysFromEnv: NOTIFICATIONS_SECRETS_KEY.
	KeysFromEnv KeySource = "env"
	// KeysFromFile: secrets.key in the data directory of the embedded default.
	KeysFromFile KeySource = "file"
	// KeysNone: no key, so no tenant destinations.
	KeysNone KeySource = "none"
)

// LoadKeyring is LoadKeyringFor with ownsDataDir true when there is no databaseURL: the
// embedded ledger lives in dataDir.
func LoadKeyring(secretsKey, databaseURL, dataDir string) (*secretbox.Keyring, KeySource, error) {
	return LoadKeyringFor(secretsKey, dataDir, databaseURL == "")
}

// LoadKeyringFor returns the keyring that seals tenant destinations' configuration:
// NOTIFICATIONS_SECRETS_KEY (secretsKey) when it is set; otherwise, when the process owns
// dataDir (the embedded default: the ledger and the NATS server are in it), the key file in
// dataDir, created at first start; otherwise nil, and tenant destinations are off (the
// service answers ErrNoKey). A fleet on PostgreSQL or on a NATS cluster must set the
// variable: its processes run on several machines and must share the key, and a worker
// that made a key file of its own could open nothing.
func LoadKeyringFor(secretsKey, dataDir string, ownsDataDir bool) (*secretbox.Keyring, KeySource, error) {
	if secretsKey != "" {
		kr, err := secretbox.ParseKeys(secretsKey)
		if err != nil {
			return nil, KeysNone, err
		}
		return kr, KeysFromEnv, nil
	}
	if !ownsDataDir || dataDir == "" {
		return nil, KeysNone, nil
	}
	value, _, err := secretbox.LoadOrCreateKeyFile(dataDir)
	if err != nil {
		return nil, KeysNone, fmt.Errorf("%s is unset and the key file in NOTIFICATIONS_DATA_DIR cannot be used: %w", secretbox.EnvVar, err)
	}
	kr, err := secretbox.ParseKeys(value)
	if err != nil {
		return nil, KeysNone, fmt.Errorf("key file %s in NOTIFICATIONS_DATA_DIR: %w", secretbox.KeyFileName, err)
	}
	return kr, KeysFromFile, nil
}

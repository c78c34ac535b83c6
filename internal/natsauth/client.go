package natsauth

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
)

// Client is how a process authenticates to NATS and checks the servers it reaches: the
// NOTIFICATIONS_NATS_CREDS and NOTIFICATIONS_NATS_TLS_* files. The zero value connects
// without credentials and without TLS (unless the URL says tls://).
type Client struct {
	// Creds is a file holding the process's credentials: an nkey seed file, as the
	// credentials command and the embedded default write them, or a .creds file (a user
	// JWT and its seed) for servers run in operator mode.
	Creds string
	// CA is a PEM file of the certificate authorities that sign the servers' certificates.
	// Setting it turns TLS on.
	CA string
	// Cert and Key are the client's certificate and key, PEM, for servers that verify
	// clients. Both or neither; either turns TLS on.
	Cert, Key string
}

// ProcessRole is the role a process connects as: the dispatcher's when it runs the
// dispatcher (the herald process, which also runs every worker, included), else a worker
// of its channels ("all" meaning every channel: worker-all).
func ProcessRole(dispatcher bool, channels []string) Role {
	if dispatcher {
		return Role{Kind: Dispatcher}
	}
	if len(channels) == 1 && channels[0] == "all" {
		return AllWorkers(nil)
	}
	return WorkerOf(channels...)
}

// Discover fills in the embedded default's seed of role, from the credentials directory under
// dataDir, when no credentials file is set and the file exists: a worker of several channels
// takes worker-all's. It is how processes and the publisher CLI on the machine that runs
// the embedded server find their credentials without being told.
func (c Client) Discover(dataDir string, role Role) Client {
	if c.Creds != "" {
		return c
	}
	dir := CredentialsDir(dataDir)
	candidates := []string{SeedFile(dir, role)}
	if role.Kind == Worker {
		candidates = append(candidates, SeedFile(dir, AllWorkers(nil)))
	}
	for _, f := range candidates {
		if _, err := os.Stat(f); err == nil {
			c.Creds = f
			return c
		}
	}
	return c
}

// Options are the connection options of c: nkey authentication (signing the server's nonce
// with the seed, read from the file at each connect and wiped after use) and the user's own
// inbox prefix, or a .creds file's JWT; and TLS. Errors name files, never their contents.
func (c Client) Options() ([]nats.Option, error) {
	var opts []nats.Option
	if c.Creds != "" {
		b, err := os.ReadFile(c.Creds)
		if err != nil {
			return nil, fmt.Errorf("credentials file: %w", err)
		}
		jwt := bytes.Contains(b, []byte("BEGIN NATS USER JWT"))
		wipe(b)
		if jwt {
			// Operator mode: the JWT carries the permissions, and its issuer chose the
			// inbox the user may read.
			opts = append(opts, nats.UserCredentials(c.Creds))
		} else {
			pub, err := PublicKeyOf(c.Creds)
			if err != nil {
				return nil, fmt.Errorf("credentials file: %w", err)
			}
			nk, err := nats.NkeyOptionFromSeed(c.Creds)
			if err != nil {
				return nil, fmt.Errorf("credentials file %s: %w", c.Creds, err)
			}
			opts = append(opts, nk, nats.CustomInboxPrefix(Inbox(pub)))
		}
	}
	if (c.Cert == "") != (c.Key == "") {
		return nil, errors.New("a TLS client certificate needs its key, and a key its certificate")
	}
	for _, f := range []string{c.CA, c.Cert, c.Key} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("TLS file: %w", err)
		}
	}
	if c.CA != "" {
		opts = append(opts, nats.RootCAs(c.CA))
	}
	if c.Cert != "" {
		opts = append(opts, nats.ClientCert(c.Cert, c.Key))
	}
	return opts, nil
}

// ClientFor is the connection options of a process of role: c's, and, when natsURL is
// empty (the embedded default, on this machine), the role's seed from dataDir unless c
// names credentials. A process pointed at a NATS URL uses only what it is given.
func ClientFor(natsURL, dataDir string, role Role, c Client) ([]nats.Option, error) {
	if natsURL == "" {
		c = c.Discover(dataDir, role)
	}
	return c.Options()
}

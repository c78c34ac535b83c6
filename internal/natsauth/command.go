package natsauth

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

const commandUsage = `natsauth issues Herald's NATS credentials and a development cluster's TLS material.

Usage:
  natsauth init [--creds DIR] [--conf FILE] [--tls DIR] [--prefix PREFIX]
  natsauth credentials [--out DIR] [--prefix PREFIX] [--conf FILE] [--role ROLE ...]
  natsauth tls [--out DIR] [--host NAME ...]

init is the one step before docker-compose.yml's first start: credentials for every role
(seeds into --creds, default deploy/nats/creds; auth.conf into --conf) and, unless they are
there already, the TLS material of tls with its default names (into --tls, default
deploy/nats/tls). Run again, it keeps the seeds and the TLS files it finds, checking that
the servers' certificate is valid and names every node.

credentials writes an nkey seed per role into DIR (default deploy/nats/creds), mode 0600,
keeping the seeds already there, and the NATS server's users with their permissions into
FILE (default deploy/nats/auth.conf), which the cluster's configuration includes. Roles
(default: every one): producer, dispatcher, admin, worker-<channel> for each channel,
worker-<a>+<b> for a worker of several, worker-all. Each process takes its role's seed
file in NOTIFICATIONS_NATS_CREDS. Seeds are secrets: never commit them.

tls writes a development CA, a certificate for the servers (client and route connections;
names: --host, default nats-1, nats-2, nats-3, localhost, 127.0.0.1) and a client
certificate into DIR (default deploy/nats/tls). Processes take ca.pem in
NOTIFICATIONS_NATS_TLS_CA.
`

// Main runs the natsauth command with args (without the program's name) and returns its
// exit status. channels are the channels built into Herald, for the workers' roles.
func Main(args, channels []string, stdout, stderr io.Writer) int {
	err := command(args, channels, stdout)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, commandUsage)
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "natsauth: %v\n\n%s", err, commandUsage)
		return 2
	default:
		fmt.Fprintf(stderr, "natsauth: %v\n", err)
		return 1
	}
}

var errUsage = errors.New("usage")

// Where the command writes by default, relative to the repository's root: where
// docker-compose.yml's NATS nodes and Herald's services mount them from.
var (
	// DefaultCredsDir holds the roles' seeds.
	DefaultCredsDir = filepath.Join("deploy", "nats", "creds")
	// DefaultAuthConf is the servers' users, which every node includes.
	DefaultAuthConf = filepath.Join("deploy", "nats", "auth.conf")
	// DefaultTLSDir holds the TLS material (CA, servers' and client certificates).
	DefaultTLSDir = filepath.Join("deploy", "nats", "tls")
)

type strList []string

func (l *strList) String() string     { return strings.Join(*l, ",") }
func (l *strList) Set(v string) error { *l = append(*l, v); return nil }

func command(args, channels []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command given", errUsage)
	}
	fs := flag.NewFlagSet("natsauth "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	switch args[0] {
	case "help", "-h", "--help":
		return flag.ErrHelp
	case "init":
		creds := fs.String("creds", DefaultCredsDir, "")
		conf := fs.String("conf", DefaultAuthConf, "")
		tlsDir := fs.String("tls", DefaultTLSDir, "")
		prefix := fs.String("prefix", "herald", "")
		if err := fs.Parse(args[1:]); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("%w: unexpected %q", errUsage, fs.Arg(0))
		}
		if !validToken(*prefix) {
			return fmt.Errorf("%w: --prefix %q is not one subject token", errUsage, *prefix)
		}
		if err := writeCredentials(*creds, *conf, *prefix, EmbeddedRoles(channels), stdout); err != nil {
			return err
		}
		made, err := EnsureDevTLS(*tlsDir, DevTLS{})
		if err != nil {
			return fmt.Errorf("TLS material: %w", err)
		}
		if made {
			fmt.Fprintf(stdout, "wrote %s into %s (servers' certificate for %s)\n",
				strings.Join(devTLSFiles, ", "), *tlsDir, strings.Join(DefaultTLSHosts(), ", "))
		} else {
			fmt.Fprintf(stdout, "kept the TLS material in %s (servers' certificate valid for %s)\n",
				*tlsDir, strings.Join(DefaultTLSHosts(), ", "))
		}
		return nil
	case "credentials":
		out := fs.String("out", DefaultCredsDir, "")
		prefix := fs.String("prefix", "herald", "")
		conf := fs.String("conf", DefaultAuthConf, "")
		var names strList
		fs.Var(&names, "role", "")
		if err := fs.Parse(args[1:]); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("%w: unexpected %q", errUsage, fs.Arg(0))
		}
		if !validToken(*prefix) {
			return fmt.Errorf("%w: --prefix %q is not one subject token", errUsage, *prefix)
		}
		roles := EmbeddedRoles(channels)
		if len(names) > 0 {
			roles = roles[:0]
			for _, n := range names {
				r, err := ParseRole(n, channels)
				if err != nil {
					return fmt.Errorf("%w: --role: %v", errUsage, err)
				}
				roles = append(roles, r)
			}
		}
		return writeCredentials(*out, *conf, *prefix, roles, stdout)
	case "tls":
		out := fs.String("out", DefaultTLSDir, "")
		var hosts strList
		fs.Var(&hosts, "host", "")
		if err := fs.Parse(args[1:]); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("%w: unexpected %q", errUsage, fs.Arg(0))
		}
		if err := WriteDevTLS(*out, DevTLS{Hosts: hosts}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s, %s (CA), %s, %s (servers), %s, %s (client) into %s\n",
			CAFile, CAKeyFile, ServerCertFile, ServerKeyFile, ClientCertFile, ClientKeyFile, *out)
		return nil
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

// writeCredentials keeps or makes the seeds of roles in dir and writes the servers' users
// into conf, printing each role's public key and seed file.
func writeCredentials(dir, conf, prefix string, roles []Role, stdout io.Writer) error {
	users, err := EnsureSeeds(dir, prefix, roles)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(conf, AuthConf(users), 0o644); err != nil {
		return err
	}
	for _, u := range users {
		fmt.Fprintf(stdout, "%-22s %s  %s\n", u.Role.Name(), u.PublicKey, SeedFile(dir, u.Role))
	}
	fmt.Fprintf(stdout, "wrote %s (public keys and permissions, prefix %q)\n", conf, prefix)
	return nil
}

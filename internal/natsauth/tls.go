package natsauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The files WriteDevTLS writes into its directory.
const (
	CAFile         = "ca.pem"         // the development CA's certificate: clients' NOTIFICATIONS_NATS_TLS_CA
	CAKeyFile      = "ca-key.pem"     // its key: keep it, or delete it once the certificates are made
	ServerCertFile = "server.pem"     // the servers' certificate, for client and route connections
	ServerKeyFile  = "server-key.pem" // its key
	ClientCertFile = "client.pem"     // a client certificate, for servers that verify clients
	ClientKeyFile  = "client-key.pem" // its key
)

// DevTLS describes the TLS material of a development or test cluster.
type DevTLS struct {
	// Hosts are the servers' names and addresses, the certificate's subject alternative
	// names. Defaults to DefaultTLSHosts.
	Hosts []string
	// Valid is how long the certificates last. Defaults to a year.
	Valid time.Duration
}

// defaults fills in the documented defaults.
func (o DevTLS) defaults() DevTLS {
	if len(o.Hosts) == 0 {
		o.Hosts = DefaultTLSHosts()
	}
	if o.Valid <= 0 {
		o.Valid = 365 * 24 * time.Hour
	}
	return o
}

// DefaultTLSHosts are the names the servers' certificate carries by default: the three
// nodes of docker-compose.yml, which Herald's services and the routes dial by name, and
// the loopback names under which nats-1's published client port is reached from the host.
func DefaultTLSHosts() []string {
	return []string{"nats-1", "nats-2", "nats-3", "localhost", "127.0.0.1"}
}

// devTLSFiles are every file WriteDevTLS writes.
var devTLSFiles = []string{CAFile, CAKeyFile, ServerCertFile, ServerKeyFile, ClientCertFile, ClientKeyFile}

// EnsureDevTLS makes the TLS material of WriteDevTLS in dir unless it is there already,
// and reports whether it made it. Material is there when the CA's certificate and the
// servers' certificate and key are (the files a node and Herald's processes read; the CA's
// key and the client certificate may have been moved away, as they should be once made):
// then it is kept, after checking that the servers' certificate is valid now and names
// every one of o.Hosts, so that a certificate made for other names or expired is reported
// before a node fails its handshakes. Some of the files without the others is an error:
// replacing half of a set would leave certificates that no CA of the set signed.
func EnsureDevTLS(dir string, o DevTLS) (made bool, err error) {
	o = o.defaults()
	var present []string
	for _, f := range devTLSFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			present = append(present, f)
		}
	}
	if len(present) == 0 {
		return true, WriteDevTLS(dir, o)
	}
	for _, f := range []string{CAFile, ServerCertFile, ServerKeyFile} {
		if !slices.Contains(present, f) {
			return false, fmt.Errorf("%s has %s but no %s: remove the TLS files there to make a new set", dir, strings.Join(present, ", "), f)
		}
	}
	return false, CheckServerCert(filepath.Join(dir, ServerCertFile), filepath.Join(dir, CAFile), o.Hosts, time.Now())
}

// CheckServerCert checks that the PEM certificate in certFile chains to a CA of caFile
// and is valid at now for every one of hosts, as a client or a route dialling that name
// verifies it.
func CheckServerCert(certFile, caFile string, hosts []string, now time.Time) error {
	cert, err := readCert(certFile)
	if err != nil {
		return err
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	for _, h := range hosts {
		_, err := cert.Verify(x509.VerifyOptions{DNSName: h, Roots: roots, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			return fmt.Errorf("%s for %s: %w", certFile, h, err)
		}
	}
	return nil
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return x509.ParseCertificate(block.Bytes)
}

// WriteDevTLS makes a CA and, signed by it, one certificate that every server of the cluster
// presents to clients and to its routes (its names are all of Hosts, and it serves as client
// and server certificate, as routes need), and a client certificate. Keys are ECDSA P-256,
// written 0600. It refuses to overwrite existing files. It is for development and tests:
// production clusters take certificates from the organisation's CA.
func WriteDevTLS(dir string, o DevTLS) error {
	o = o.defaults()
	for _, f := range devTLSFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return fmt.Errorf("%s exists: remove the old files first", filepath.Join(dir, f))
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	ca := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Herald NATS development CA", Organization: []string{"Herald"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(o.Valid),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := sign(ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, CAFile), "CERTIFICATE", caDER, 0o644); err != nil {
		return err
	}
	if err := writeKey(filepath.Join(dir, CAKeyFile), caKey); err != nil {
		return err
	}
	leaf := func(name string, hosts []string, usage []x509.ExtKeyUsage, certFile, keyFile string) error {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			Subject:     pkix.Name{CommonName: name, Organization: []string{"Herald"}},
			NotBefore:   now.Add(-time.Hour),
			NotAfter:    now.Add(o.Valid),
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: usage,
		}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
		der, err := sign(tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			return err
		}
		if err := writePEM(filepath.Join(dir, certFile), "CERTIFICATE", der, 0o644); err != nil {
			return err
		}
		return writeKey(filepath.Join(dir, keyFile), key)
	}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	if err := leaf("Herald NATS server", o.Hosts, both, ServerCertFile, ServerKeyFile); err != nil {
		return err
	}
	return leaf("Herald NATS client", nil, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, ClientCertFile, ClientKeyFile)
}

func sign(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, key *ecdsa.PrivateKey) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	return x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(path, "PRIVATE KEY", der, 0o600)
}

func writePEM(path, kind string, der []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	err = pem.Encode(f, &pem.Block{Type: kind, Bytes: der})
	return errors.Join(err, f.Close())
}

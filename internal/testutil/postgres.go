package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"
)

// EnvTestDatabaseURL names the variable that points NewDatabase at an existing PostgreSQL
// server instead of a throwaway one, e.g. postgres://postgres:secret@db:5432/postgres. The
// role must be allowed to create and drop databases.
const EnvTestDatabaseURL = "NOTIFICATIONS_TEST_DATABASE_URL"

// serverUser is the role initdb creates, and the operating system user that runs the server
// when the tests run as root (initdb refuses to run as root).
const serverUser = "postgres"

// Postgres is a throwaway PostgreSQL server: its own cluster in a temporary directory,
// listening on a free loopback port with trust authentication and fsync off. Its methods are
// safe for concurrent use.
type Postgres struct {
	binDir  string // where initdb, pg_ctl and postgres live
	dir     string // the temporary directory; holds data/, the socket and the log
	dataDir string
	logFile string
	runAs   string // the OS user that runs the server's binaries; empty means this process's
	port    int

	mu       sync.Mutex
	running  bool
	removed  bool
	watchdog *exec.Cmd      // stops the server and removes dir if this process dies
	wdStdin  io.WriteCloser // closing it (or dying) releases the watchdog
}

// StartPostgres starts a PostgreSQL server for this test alone and stops it, removing its
// files, when the test ends. It fails the test, saying how to install PostgreSQL, when the
// server binaries cannot be found.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	p, err := startPostgres()
	if err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	t.Cleanup(func() {
		if err := p.shutdown(); err != nil {
			t.Errorf("stop postgres: %v", err)
		}
	})
	return p
}

// URL returns the connection URL of database db on the server, as the superuser postgres.
func (p *Postgres) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(serverUser),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port returns the TCP port the server listens on; it keeps it across Stop and Start.
func (p *Postgres) Port() int { return p.port }

// Stop shuts the server down in fast mode (open sessions are ended) and waits until it has
// exited, to simulate an outage. The data stays; Start brings the server back.
func (p *Postgres) Stop(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.stopLocked(); err != nil {
		t.Fatalf("stop postgres: %v", err)
	}
}

// Start starts a stopped server again on the same port and data directory, and returns once
// it accepts connections. Starting a running server does nothing.
func (p *Postgres) Start(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.removed {
		t.Fatal("start postgres: the server was already shut down and its files removed")
	}
	if err := p.startLocked(); err != nil {
		t.Fatalf("start postgres: %v", err)
	}
}

// shared is the package-wide server NewDatabase creates databases on, started on first use.
var shared struct {
	mu  sync.Mutex
	pg  *Postgres
	err error // a failed start is not retried for every test
}

// NewDatabase creates an empty database for this test and returns its URL; the database is
// dropped when the test ends. The databases live on one server per test binary, started on
// first use, or on the server named by NOTIFICATIONS_TEST_DATABASE_URL when that is set.
// A package that uses NewDatabase calls StopSharedPostgres from its TestMain.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvTestDatabaseURL)
	if admin == "" {
		pg, err := sharedPostgres()
		if err != nil {
			t.Fatalf("start shared postgres: %v", err)
		}
		admin = pg.URL("postgres")
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// The parse error would quote the URL, password included.
		t.Fatalf("%s must be a postgres:// URL", EnvTestDatabaseURL)
	}
	name := databaseName(t.Name())
	quoted := pgx.Identifier{name}.Sanitize()
	if err := adminExec(admin, "CREATE DATABASE "+quoted); err != nil {
		t.Fatalf("create test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := adminExec(admin, "DROP DATABASE IF EXISTS "+quoted+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path, u.RawPath = "/"+name, ""
	return u.String()
}

// StopSharedPostgres stops the server NewDatabase started, if any, and removes its files.
// Call it from TestMain after m.Run so that no postgres process outlives the test binary:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		testutil.StopSharedPostgres()
//		os.Exit(code)
//	}
func StopSharedPostgres() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.pg == nil {
		return
	}
	if err := shared.pg.shutdown(); err != nil {
		fmt.Fprintf(os.Stderr, "testutil: stop shared postgres: %v\n", err)
	}
	shared.pg = nil
}

func sharedPostgres() (*Postgres, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.pg == nil && shared.err == nil {
		shared.pg, shared.err = startPostgres()
	}
	return shared.pg, shared.err
}

// adminExec runs one statement on the server's maintenance connection.
func adminExec(adminURL, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, stmt)
	return err
}

// databaseName makes a valid, unique database name that says which test it belongs to.
func databaseName(testName string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 40 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	return "t_" + b.String() + "_" + hex.EncodeToString(suffix[:])
}

// serverSettings go into postgresql.conf: a server for tests, fast and reachable only here.
// Durability is off on purpose; a crash loses a test database, nothing else.
var serverSettings = []string{
	"listen_addresses = '127.0.0.1'",
	"fsync = off",
	"synchronous_commit = off",
	"full_page_writes = off",
	"max_connections = 200",
	"log_min_messages = warning",
}

// startPostgres creates a cluster in a new temporary directory and starts it.
func startPostgres() (_ *Postgres, err error) {
	binDir, err := defaultPGSearch.find()
	if err != nil {
		return nil, err
	}
	p := &Postgres{binDir: binDir}
	var owner *user.User
	if os.Geteuid() == 0 {
		owner, err = user.Lookup(serverUser)
		if err != nil {
			return nil, fmt.Errorf("running as root, and initdb refuses root: need the %q user (installing PostgreSQL creates it): %w", serverUser, err)
		}
		p.runAs = serverUser
	}
	// Not t.TempDir: its parents are not always traversable by the postgres user.
	p.dir, err = os.MkdirTemp("", "herald-pg-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	defer func() {
		if err != nil {
			_ = p.shutdown()
		}
	}()
	if owner != nil {
		uid, _ := strconv.Atoi(owner.Uid)
		gid, _ := strconv.Atoi(owner.Gid)
		if err := os.Chown(p.dir, uid, gid); err != nil {
			return nil, fmt.Errorf("chown %s to %s: %w", p.dir, serverUser, err)
		}
	}
	p.dataDir = filepath.Join(p.dir, "data")
	p.logFile = filepath.Join(p.dir, "postgres.log")
	if err := p.startWatchdog(); err != nil {
		return nil, err
	}
	if err := p.run("initdb", "-D", p.dataDir, "-U", serverUser, "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync", "--no-instructions"); err != nil {
		if p.runAs != "" {
			err = fmt.Errorf("%w (the %s user must be able to reach %s; point TMPDIR at a directory it can traverse)", err, serverUser, p.dir)
		}
		return nil, err
	}
	settings := append(slices.Clone(serverSettings),
		fmt.Sprintf("unix_socket_directories = '%s'", p.dir))
	if err := appendConf(p.dataDir, settings...); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// The free port can be taken between choosing and binding it: try a few.
	for range 3 {
		if p.port, err = freePort(); err != nil {
			return nil, err
		}
		if err = appendConf(p.dataDir, fmt.Sprintf("port = %d", p.port)); err != nil {
			return nil, err
		}
		if err = p.startLocked(); err == nil {
			return p, nil
		}
	}
	return nil, err
}

// startWatchdog starts a shell that waits for its standard input to close, then stops the
// server and removes its directory. The pipe closes when this process closes it or dies in
// any way (a test timeout, a kill), so that no server outlives the test binary. The shell
// ignores the terminal's interrupt so that it outlives its parent on Ctrl-C.
func (p *Postgres) startWatchdog() error {
	stop := []string{filepath.Join(p.binDir, "pg_ctl"), "stop", "-D", p.dataDir, "-m", "immediate", "-s"}
	if p.runAs != "" {
		stop = append([]string{"runuser", "-u", p.runAs, "--"}, stop...)
	}
	script := `trap '' INT TERM HUP
read -r _line
"$@" >/dev/null 2>&1
rm -rf "$WATCHDOG_DIR"`
	cmd := exec.Command("sh", append([]string{"-c", script, "herald-pg-watchdog"}, stop...)...)
	cmd.Env = append(os.Environ(), "WATCHDOG_DIR="+p.dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("postgres watchdog: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres watchdog: %w", err)
	}
	p.watchdog, p.wdStdin = cmd, stdin
	return nil
}

// startLocked starts the server and waits until it accepts connections.
func (p *Postgres) startLocked() error {
	if p.running {
		return nil
	}
	if err := p.run("pg_ctl", "start", "-w", "-t", "60", "-s", "-D", p.dataDir, "-l", p.logFile); err != nil {
		return fmt.Errorf("%w\nserver log:\n%s", err, tail(p.logFile, 20))
	}
	p.running = true
	return nil
}

// stopLocked stops the server in fast mode and waits until it has exited.
func (p *Postgres) stopLocked() error {
	if !p.running {
		return nil
	}
	if err := p.run("pg_ctl", "stop", "-w", "-t", "60", "-s", "-m", "fast", "-D", p.dataDir); err != nil {
		return err
	}
	p.running = false
	return nil
}

// shutdown stops the server, removes its files and releases the watchdog. It is safe to call
// more than once.
func (p *Postgres) shutdown() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.stopLocked()
	if !p.removed && p.dir != "" {
		err = errors.Join(err, os.RemoveAll(p.dir))
		p.removed = true
	}
	if p.watchdog != nil {
		_ = p.wdStdin.Close()
		_ = p.watchdog.Wait()
		p.watchdog = nil
	}
	return err
}

// run runs one of the server's binaries, as the server's user when this process is root.
func (p *Postgres) run(name string, args ...string) error {
	path := filepath.Join(p.binDir, name)
	var cmd *exec.Cmd
	if p.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", p.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = p.dir // a directory the server's user can enter
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// appendConf appends settings to postgresql.conf, where later lines win over earlier ones.
func appendConf(dataDir string, settings ...string) error {
	f, err := os.OpenFile(filepath.Join(dataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("configure postgres: %w", err)
	}
	_, err = f.WriteString("\n" + strings.Join(settings, "\n") + "\n")
	return errors.Join(err, f.Close())
}

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// pgSearch says where to look for the PostgreSQL server binaries.
type pgSearch struct {
	pgConfig    string // pg_config, whose --bindir names the binaries' directory
	versionGlob string // versioned install directories, the newest wins (Debian, Ubuntu)
	usePath     bool   // finally, initdb on PATH (Homebrew, Fedora)
}

var defaultPGSearch = pgSearch{
	pgConfig:    "pg_config",
	versionGlob: "/usr/lib/postgresql/*/bin",
	usePath:     true,
}

// find returns the directory holding initdb, pg_ctl and postgres.
func (s pgSearch) find() (string, error) {
	var candidates []string
	if out, err := exec.Command(s.pgConfig, "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	dirs, _ := filepath.Glob(s.versionGlob)
	slices.SortFunc(dirs, func(a, b string) int { // newest version first
		return compareVersions(filepath.Base(filepath.Dir(b)), filepath.Base(filepath.Dir(a)))
	})
	candidates = append(candidates, dirs...)
	if s.usePath {
		if path, err := exec.LookPath("initdb"); err == nil {
			candidates = append(candidates, filepath.Dir(path))
		}
	}
	for _, dir := range candidates {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found by pg_config --bindir, " +
		"in " + s.versionGlob + " or on PATH: install PostgreSQL to run these tests " +
		"(the README's test command does; on Debian or Ubuntu: apt-get install -y postgresql), " +
		"or set " + EnvTestDatabaseURL + " to a server that may create databases")
}

// compareVersions compares dotted version numbers such as "9.6" and "15" numerically.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// MainWithPostgres is the body of TestMain for a package whose tests use NewDatabase: it
// runs the tests, stops the shared server, and, when they passed, fails the run on
// goroutines left behind (opts are goleak.Find's, for helpers known to end on their own).
func MainWithPostgres(m *testing.M, opts ...goleak.Option) {
	code := m.Run()
	StopSharedPostgres()
	if code == 0 {
		if err := goleak.Find(opts...); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

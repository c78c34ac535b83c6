package deploy

import (
	"bufio"
	"bytes"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/heraldhq/herald/internal/channel/all"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/natsauth"
)

// composeFile is the part of docker-compose.yml the tests read. The file uses the long forms
// (lists, maps) throughout; a short form decodes with an error here rather than being
// skipped.
type composeFile struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string               `yaml:"image"`
	Build       string               `yaml:"build"`
	Entrypoint  []string             `yaml:"entrypoint"`
	Command     []string             `yaml:"command"`
	EnvFile     []string             `yaml:"env_file"`
	Environment map[string]string    `yaml:"environment"`
	Ports       []string             `yaml:"ports"`
	Volumes     []string             `yaml:"volumes"`
	DependsOn   map[string]dependsOn `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	Deploy struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
}

type dependsOn struct {
	Condition string `yaml:"condition"`
}

// deployment is docker-compose.yml with what the tests derive from it and the files it
// names.
type deployment struct {
	compose composeFile
	// env is each service's environment: its env files, then its environment map.
	env map[string]map[string]string
	// binaries are the commands the Dockerfile builds into /usr/local/bin.
	binaries []string
	// stage is the NATS nodes' configuration, staged once for natsOptions.
	stage *natsStage
}

func loadDeployment(t *testing.T) *deployment {
	t.Helper()
	d := &deployment{env: map[string]map[string]string{}}
	if err := yaml.Unmarshal(readFile(t, root, "docker-compose.yml"), &d.compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	if len(d.compose.Services) == 0 {
		t.Fatal("docker-compose.yml has no services")
	}
	for name, s := range d.compose.Services {
		env := map[string]string{}
		for _, f := range s.EnvFile {
			for k, v := range readEnvFile(t, filepath.Join(root, f)).set {
				env[k] = v
			}
		}
		for k, v := range s.Environment {
			env[k] = v
		}
		d.env[name] = env
	}
	d.binaries = dockerfileBinaries(t)
	return d
}

// envFile is an env file as compose reads it: KEY=VALUE lines, taken literally. Commented
// assignments (#KEY=VALUE) are the file's documented options.
type envFile struct {
	set       map[string]string
	commented []string
}

var commentedVar = regexp.MustCompile(`^#\s*(NOTIFICATIONS_[A-Z0-9_]+)=`)

func readEnvFile(t *testing.T, path string) envFile {
	t.Helper()
	f := envFile{set: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, path)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if m := commentedVar.FindStringSubmatch(line); m != nil {
			f.commented = append(f.commented, m[1])
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.ContainsAny(k, " \t") {
			t.Errorf("%s:%d: not KEY=VALUE: %q", path, n, line)
			continue
		}
		if _, dup := f.set[k]; dup {
			t.Errorf("%s:%d: %s is set twice", path, n, k)
		}
		f.set[k] = v
	}
	return f
}

// herald reports whether the service runs the Herald image, and which binary.
func (d *deployment) herald(name string) (binary string, ok bool) {
	s := d.compose.Services[name]
	if len(s.Entrypoint) == 0 || !strings.HasPrefix(s.Entrypoint[0], "/usr/local/bin/") {
		return "", false
	}
	return strings.TrimPrefix(s.Entrypoint[0], "/usr/local/bin/"), true
}

// flag returns the value of a --name flag in args.
func flag(args []string, name string) string {
	for i, a := range args {
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// listens lists the TCP ports a service listens on inside its container, from the
// configuration the service is given: NOTIFICATIONS_HTTP_ADDR for Herald's processes,
// --addr for webhook-echo, the node's configuration for NATS, and the images' documented
// defaults for the others, which the files here do not change.
func (d *deployment) listens(t *testing.T, name string) []int {
	t.Helper()
	s := d.compose.Services[name]
	if bin, ok := d.herald(name); ok {
		switch bin {
		case "webhook-echo":
			return []int{portOf(t, name+" --addr", flag(s.Entrypoint, "addr"))}
		default:
			addr, ok := d.env[name]["NOTIFICATIONS_HTTP_ADDR"]
			if !ok {
				t.Errorf("service %s: set NOTIFICATIONS_HTTP_ADDR in its environment, so that its ports and scrape targets can be checked", name)
				return nil
			}
			return []int{portOf(t, name+" NOTIFICATIONS_HTTP_ADDR", addr)}
		}
	}
	if strings.HasPrefix(s.Image, "nats:") {
		o := natsOptions(t, d, name)
		return []int{o.Port, o.HTTPPort, o.Cluster.Port}
	}
	image, _, _ := strings.Cut(s.Image, ":")
	ports, ok := map[string][]int{
		"postgres":        {5432},
		"prom/prometheus": {9090},
		"grafana/grafana": {3000},
		"axllent/mailpit": {8025, 1025},
	}[image]
	if !ok {
		t.Errorf("service %s: image %s: which ports does it listen on?", name, s.Image)
	}
	return ports
}

func portOf(t *testing.T, what, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Errorf("%s: %q is not host:port: %v", what, addr, err)
		return 0
	}
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 {
		t.Errorf("%s: %q has no fixed port", what, addr)
	}
	return n
}

var dockerfileCmd = regexp.MustCompile(`^\s*(?:RUN .*?)?\./cmd/([a-z0-9-]+)\s*\\?\s*$`)

// dockerfileBinaries reads the ./cmd/<name> packages the Dockerfile's go build names.
func dockerfileBinaries(t *testing.T) []string {
	t.Helper()
	src := string(readFile(t, root, "Dockerfile"))
	for _, want := range []string{"CGO_ENABLED=0 go build", "-o /out/bin/", "COPY --from=build /out/bin/ /usr/local/bin/", "USER nonroot"} {
		if !strings.Contains(src, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	var out []string
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if m := dockerfileCmd.FindStringSubmatch(line); m != nil {
			out = append(out, m[1])
		}
	}
	if len(out) == 0 {
		t.Fatal("the Dockerfile builds no ./cmd/<name>")
	}
	return out
}

// mainPackage reports whether cmd/<name> holds a main package's Go files.
func mainPackage(name string) bool {
	files, _ := filepath.Glob(filepath.Join(root, "cmd", name, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		if b, err := os.ReadFile(f); err == nil && regexp.MustCompile(`(?m)^package main$`).Match(b) {
			return true
		}
	}
	return false
}

// TestDockerfileBuildsEveryCommand: every command the image ships is a main package under
// cmd/, and every command of the product is in the image. The benchmark and the fault suite
// are tools for this repository, not for production.
func TestDockerfileBuildsEveryCommand(t *testing.T) {
	t.Parallel()
	built := dockerfileBinaries(t)
	for _, b := range built {
		if !mainPackage(b) {
			t.Errorf("the Dockerfile builds ./cmd/%s, which is not a main package", b)
		}
	}
	devTools := []string{"herald-bench", "herald-chaos"}
	entries, err := os.ReadDir(filepath.Join(root, "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && mainPackage(e.Name()) && !slices.Contains(built, e.Name()) && !slices.Contains(devTools, e.Name()) {
			t.Errorf("cmd/%s is a command, but the Dockerfile does not build it: add ./cmd/%s to its go build", e.Name(), e.Name())
		}
	}
	for _, want := range []string{"herald", "dispatcher", "channel-worker", "publisher-sdk"} {
		if !slices.Contains(built, want) {
			t.Errorf("the Dockerfile does not build %s", want)
		}
	}
}

// TestComposeServicesRunBuiltCommands: every Herald service runs a binary the image has,
// with arguments the binary takes; every enabled channel has at least two workers and every
// worker's channel is enabled.
func TestComposeServicesRunBuiltCommands(t *testing.T) {
	t.Parallel()
	d := loadDeployment(t)
	channels := map[string]bool{}
	for _, p := range all.Providers() {
		channels[p.Name()] = true
	}
	workers := map[string]int{}
	dispatchers := 0
	for name, s := range d.compose.Services {
		bin, ok := d.herald(name)
		if !ok {
			if s.Build != "" || s.Image == "herald:local" {
				t.Errorf("service %s runs the Herald image without an entrypoint naming its binary", name)
			}
			continue
		}
		if s.Image != "herald:local" {
			t.Errorf("service %s runs %s from image %q, not the Herald image", name, bin, s.Image)
		}
		if !slices.Contains(d.binaries, bin) {
			t.Errorf("service %s runs %s, which the Dockerfile does not build (it builds %v)", name, bin, d.binaries)
		}
		if !mainPackage(bin) {
			t.Errorf("service %s runs %s, which is no command under cmd/", name, bin)
		}
		if len(s.Command) > 0 {
			t.Errorf("service %s: put the arguments in entrypoint, not command", name)
		}
		replicas := max(1, s.Deploy.Replicas)
		switch bin {
		case "dispatcher", "herald":
			if len(s.Entrypoint) != 1 {
				t.Errorf("service %s: %s takes no arguments here: %v", name, bin, s.Entrypoint[1:])
			}
			dispatchers += replicas
		case "channel-worker":
			list := flag(s.Entrypoint, "channel")
			if list == "" {
				t.Errorf("service %s: channel-worker without --channel", name)
			}
			for _, ch := range strings.Split(list, ",") {
				if !channels[ch] {
					t.Errorf("service %s: --channel %s is not a channel Herald has", name, ch)
				}
				workers[ch] += replicas
			}
		}
	}
	if dispatchers < 2 {
		t.Errorf("%d dispatcher processes; want two, so that one can stop without stopping dispatch", dispatchers)
	}
	enabled := enabledChannels(t, d)
	for ch := range workers {
		if !enabled[ch] {
			t.Errorf("workers deliver %s, but deploy/herald.env does not enable it", ch)
		}
	}
	for ch := range enabled {
		if workers[ch] < 2 {
			t.Errorf("channel %s is enabled with %d worker processes; want at least two", ch, workers[ch])
		}
	}
}

// enabledChannels are the channels that the configuration of the dispatchers enables.
func enabledChannels(t *testing.T, d *deployment) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for name := range d.compose.Services {
		if bin, _ := d.herald(name); bin != "dispatcher" {
			continue
		}
		cfg := loadConfig(t, d, name, ":8080")
		for _, ch := range cfg.Channels() {
			out[ch] = true
		}
	}
	return out
}

// loadConfig loads a Herald service's configuration as the process would. Its NATS seed
// file must be mounted from deploy/nats/creds and be the one of the process's role; the
// seeds are made by the natsauth command on the operator's machine and never committed, so
// a fresh seed of that role stands in for it.
func loadConfig(t *testing.T, d *deployment, name, defaultAddr string) *config.Config {
	t.Helper()
	env := maps.Clone(d.env[name])
	bin, _ := d.herald(name)
	role := natsauth.ProcessRole(bin == "dispatcher" || bin == "herald", strings.Split(flag(d.compose.Services[name].Entrypoint, "channel"), ","))
	creds := env["NOTIFICATIONS_NATS_CREDS"]
	switch {
	case creds == "":
		t.Errorf("service %s: no NOTIFICATIONS_NATS_CREDS: the cluster's auth.conf admits no one without credentials", name)
	case filepath.Dir(d.hostPath(t, name, creds)) != filepath.Join(root, "deploy", "nats", "creds"):
		t.Errorf("service %s: NOTIFICATIONS_NATS_CREDS %s is not mounted from deploy/nats/creds, where the natsauth command writes the seeds", name, creds)
	case filepath.Base(creds) != filepath.Base(natsauth.SeedFile("", role)):
		t.Errorf("service %s: NOTIFICATIONS_NATS_CREDS names %s; the process connects as %s, whose seed is %s", name, filepath.Base(creds), role.Name(), filepath.Base(natsauth.SeedFile("", role)))
	default:
		dir := t.TempDir()
		if _, err := natsauth.WriteSeed(dir, role); err != nil {
			t.Fatal(err)
		}
		env["NOTIFICATIONS_NATS_CREDS"] = natsauth.SeedFile(dir, role)
	}
	d.stageTLSFiles(t, name, env)
	cfg, err := config.Load(func(k string) string { return env[k] }, defaultAddr)
	if err != nil {
		t.Fatalf("service %s: its environment does not load: %v", name, err)
	}
	return cfg
}

// TestComposeConfigurationLoads: every Herald process's environment is one Herald accepts,
// its operator destinations included, and every NOTIFICATIONS_* variable the files set or
// show is one Herald reads: a misspelt variable would otherwise be ignored in silence.
func TestComposeConfigurationLoads(t *testing.T) {
	t.Parallel()
	d := loadDeployment(t)
	known := knownVariables(t)
	check := func(where, v string) {
		if strings.HasPrefix(v, "NOTIFICATIONS_") && !known[v] {
			t.Errorf("%s: %s is not a variable Herald reads", where, v)
		}
	}
	files := map[string]bool{}
	for name, s := range d.compose.Services {
		for k := range s.Environment {
			check("docker-compose.yml service "+name, k)
		}
		for _, f := range s.EnvFile {
			files[f] = true
		}
	}
	if len(files) == 0 {
		t.Fatal("no service reads an env file")
	}
	for f := range files {
		ef := readEnvFile(t, filepath.Join(root, f))
		for k := range ef.set {
			check(f, k)
		}
		for _, k := range ef.commented {
			check(f+" (commented)", k)
		}
	}

	templates, err := all.Templates("")
	if err != nil {
		t.Fatal(err)
	}
	registry, err := all.Default(http.DefaultClient, templates, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for name := range d.compose.Services {
		bin, ok := d.herald(name)
		if !ok || bin == "webhook-echo" {
			continue
		}
		cfg := loadConfig(t, d, name, "")
		if cfg.NATSURL == "" || cfg.DatabaseURL == "" {
			t.Errorf("service %s: NOTIFICATIONS_NATS_URL and NOTIFICATIONS_DATABASE_URL must be set: unset, a process falls back to an embedded server or SQLite in its container", name)
		}
		for _, dest := range cfg.Destinations {
			ch, ok := registry.Get(dest.Channel)
			if !ok {
				t.Errorf("service %s: destination %s: no channel %s", name, dest.ID, dest.Channel)
				continue
			}
			if err := ch.Validate(dest); err != nil {
				t.Errorf("service %s: destination %s: %v", name, dest.ID, err)
			}
		}
	}
}

// TestComposeNetwork: published ports do not collide and reach a port the service listens
// on; depends_on names services (with a health check where it waits for health); every
// named volume is declared and used, every bind mount exists; and every address in the
// configuration names a service and a port it listens on.
func TestComposeNetwork(t *testing.T) {
	t.Parallel()
	d := loadDeployment(t)
	published := map[string]string{}
	usedVolumes := map[string]bool{}
	for name, s := range d.compose.Services {
		listens := d.listens(t, name)
		for _, p := range s.Ports {
			host, container := parsePort(t, name, p)
			if other, dup := published[host]; dup {
				t.Errorf("services %s and %s both publish %s", other, name, host)
			}
			published[host] = name
			if s.Deploy.Replicas > 1 {
				t.Errorf("service %s publishes %s from %d replicas: only one can have it", name, host, s.Deploy.Replicas)
			}
			if !slices.Contains(listens, container) {
				t.Errorf("service %s publishes %s to port %d, where it does not listen (it listens on %v)", name, host, container, listens)
			}
		}
		for dep, cond := range s.DependsOn {
			target, ok := d.compose.Services[dep]
			switch {
			case !ok:
				t.Errorf("service %s depends on %s, which is no service", name, dep)
			case cond.Condition == "service_healthy" && target.Healthcheck == nil:
				t.Errorf("service %s waits for %s to be healthy, which has no health check", name, dep)
			case !slices.Contains([]string{"service_started", "service_healthy", "service_completed_successfully"}, cond.Condition):
				t.Errorf("service %s depends on %s with condition %q", name, dep, cond.Condition)
			}
		}
		for _, v := range s.Volumes {
			src, dst, _ := strings.Cut(v, ":")
			if dst == "" {
				t.Errorf("service %s: volume %q has no container path", name, v)
			}
			if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
				if _, err := os.Stat(filepath.Join(root, src)); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
				continue
			}
			usedVolumes[src] = true
			if _, ok := d.compose.Volumes[src]; !ok {
				t.Errorf("service %s uses volume %s, which is not declared under volumes", name, src)
			}
		}
	}
	for v := range d.compose.Volumes {
		if !usedVolumes[v] {
			t.Errorf("volume %s is declared and never used", v)
		}
	}

	// The addresses Herald's configuration names.
	for name := range d.compose.Services {
		bin, ok := d.herald(name)
		if !ok || bin == "webhook-echo" {
			continue
		}
		env := d.env[name]
		for _, u := range strings.Split(env["NOTIFICATIONS_NATS_URL"], ",") {
			d.checkAddress(t, name, "NOTIFICATIONS_NATS_URL", u)
		}
		d.checkAddress(t, name, "NOTIFICATIONS_DATABASE_URL", env["NOTIFICATIONS_DATABASE_URL"])
		if env["NOTIFICATIONS_WEBHOOK_ENABLED"] == "true" {
			d.checkAddress(t, name, "NOTIFICATIONS_WEBHOOK_URL", env["NOTIFICATIONS_WEBHOOK_URL"])
		}
		if env["NOTIFICATIONS_EMAIL_ENABLED"] == "true" && env["NOTIFICATIONS_EMAIL_PROVIDER"] == "smtp" {
			d.checkAddress(t, name, "NOTIFICATIONS_SMTP_HOST", "smtp://"+net.JoinHostPort(env["NOTIFICATIONS_SMTP_HOST"], env["NOTIFICATIONS_SMTP_PORT"]))
		}
	}
}

// checkAddress checks that a URL's host is a service of the file that listens on its port.
// A host outside the file (a real provider) is left alone only when it has a dot.
func (d *deployment) checkAddress(t *testing.T, service, variable, raw string) {
	t.Helper()
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Hostname() == "" {
		t.Errorf("service %s: %s: %q is not a URL with a host", service, variable, raw)
		return
	}
	if strings.Contains(u.Hostname(), ".") {
		return
	}
	if _, ok := d.compose.Services[u.Hostname()]; !ok {
		t.Errorf("service %s: %s names %s, which is no service", service, variable, u.Hostname())
		return
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Errorf("service %s: %s: %q names no port", service, variable, raw)
		return
	}
	if listens := d.listens(t, u.Hostname()); !slices.Contains(listens, port) {
		t.Errorf("service %s: %s names port %d of %s, which listens on %v", service, variable, port, u.Hostname(), listens)
	}
}

var portMapping = regexp.MustCompile(`^(?:(\d+\.\d+\.\d+\.\d+):)?(\d+):(\d+)$`)

// parsePort reads a published port, [ip:]host:container; only loopback is allowed as the
// host address, so that nothing is exposed beyond the machine by default.
func parsePort(t *testing.T, service, p string) (host string, container int) {
	t.Helper()
	m := portMapping.FindStringSubmatch(p)
	if m == nil {
		t.Errorf("service %s: port %q is not [ip:]host:container", service, p)
		return p, 0
	}
	if m[1] != "127.0.0.1" {
		t.Errorf("service %s: port %q is published beyond the loopback address", service, p)
	}
	container, _ = strconv.Atoi(m[3])
	return m[2], container
}

// TestComposeBindMountsStayInDeploy: the files a service mounts are all under deploy/, so
// that the deployment's files are in one place, out of the image's build context.
func TestComposeBindMountsStayInDeploy(t *testing.T) {
	t.Parallel()
	d := loadDeployment(t)
	for name, s := range d.compose.Services {
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") && !strings.HasPrefix(src, "./deploy/") {
				t.Errorf("service %s mounts %s, outside deploy/", name, src)
			}
		}
	}
}

// TestDockerignoreKeepsWhatTheBuildReads: no file the image's commands are built from (Go
// files, embedded files, go.mod and go.sum) is left out of the build context by
// .dockerignore, which would fail `docker build` only where Docker runs.
func TestDockerignoreKeepsWhatTheBuildReads(t *testing.T) {
	t.Parallel()
	var patterns []string
	for _, line := range strings.Split(string(readFile(t, root, ".dockerignore")), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			t.Fatalf(".dockerignore: %q: exceptions are beyond what this test reads", line)
		}
		patterns = append(patterns, strings.TrimPrefix(line, "/"))
	}
	args := []string{"list", "-e", "-deps", "-f", `{{if .Module}}{{if .Module.Main}}{{range .GoFiles}}{{$.Dir}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$.Dir}}/{{.}}
{{end}}{{end}}{{end}}`}
	for _, b := range dockerfileBinaries(t) {
		args = append(args, "./cmd/"+b)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"go.mod", "go.sum"}
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		rel, err := filepath.Rel(abs, f)
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Fatalf("%s is outside the repository", f)
		}
		files = append(files, filepath.ToSlash(rel))
	}
	if len(files) < 50 {
		t.Fatalf("go list named only %d files", len(files))
	}
	for _, f := range files {
		if p, ok := dockerignored(patterns, f); ok {
			t.Errorf("the build reads %s, which .dockerignore's %q leaves out of the context", f, p)
		}
	}
}

// dockerignored reports whether a path (slash-separated, relative to the context) or a
// directory above it matches one of the patterns, as Docker reads them: path.Match on the
// whole relative path, with a leading "**/" matching any number of directories.
func dockerignored(patterns []string, file string) (string, bool) {
	parts := strings.Split(file, "/")
	for _, p := range patterns {
		for i := 1; i <= len(parts); i++ {
			prefix := strings.Join(parts[:i], "/")
			if ok, _ := path.Match(p, prefix); ok {
				return p, true
			}
			if rest, ok := strings.CutPrefix(p, "**/"); ok {
				for j := 0; j < i; j++ {
					if ok, _ := path.Match(rest, strings.Join(parts[j:i], "/")); ok {
						return p, true
					}
				}
			}
		}
	}
	return "", false
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/adapters/postgres/pgtest"
)

// cli runs the program's command line in process with the environment given on top
// of the shipped config.toml.
func cli(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	base := map[string]string{
		"APP_CONFIG":               "../config.toml",
		"APP_SECURITY_BCRYPT_COST": "4",
		"APP_LOG_LEVEL":            "error",
		"APP_ADMIN_ADDR":           "127.0.0.1:0",
	}
	for k, v := range base {
		t.Setenv(k, v)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

var uuidLine = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$`)

func TestCreateSuperAdminCommand(t *testing.T) {
	env := map[string]string{"APP_DATABASE_URL": pgtest.NewURL(t), "APP_SUPERADMIN_PASSWORD": testPassword}

	code, out, errOut := cli(t, env, "create-superadmin", "--username", "first.root")
	if code != 0 || !uuidLine.MatchString(out) {
		t.Fatalf("create: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Running it again changes nothing and prints the same id.
	code, again, _ := cli(t, env, "create-superadmin", "--username", "first.root")
	if code != 0 || again != out {
		t.Fatalf("repeat: exit %d, stdout %q, want %q", code, again, out)
	}

	// A name that belongs to a user of another role, or breaks the rules, is one
	// clear line and exit 1.
	db, err := postgres.Open(t.Context(), postgres.Config{URL: env["APP_DATABASE_URL"], MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.ExecContext(t.Context(), `INSERT INTO users (id, username, password_hash, password_changed_at, role, is_active, created_at, updated_at, version)
		VALUES ('0190b3a2-0000-7000-8000-000000000001', 'plain.user', 'x', now(), 'user', true, now(), now(), 1)`)
	if err != nil {
		t.Fatal(err)
	}
	// (After the line naming the database.)
	for _, name := range []string{"plain.user", "ab", "bad..name"} {
		code, out, errOut := cli(t, env, "create-superadmin", "--username", name)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != 1 || out != "" || len(lines) != 2 || !strings.HasPrefix(lines[0], "using database ") || !strings.HasPrefix(lines[1], "error: ") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, code, out, errOut)
		}
	}

	code, _, errOut = cli(t, env, "create-superadmin")
	if code != 2 || !strings.Contains(errOut, "--username") {
		t.Errorf("no username: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = cli(t, map[string]string{"APP_SUPERADMIN_PASSWORD": "short"}, "create-superadmin", "--username", "other.root")
	if code != 1 || !strings.Contains(errOut, "password") {
		t.Errorf("short password: exit %d, stderr %q", code, errOut)
	}
}

func TestMigrateCommand(t *testing.T) {
	env := map[string]string{"APP_DATABASE_URL": pgtest.NewURL(t)}
	code, out, errOut := cli(t, env, "migrate", "status")
	if code != 0 || !strings.Contains(out, "applied") || strings.Contains(out, "pending") {
		t.Fatalf("status: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, out, _ := cli(t, env, "migrate", "down"); code != 0 || !strings.Contains(out, "rolled back") {
		t.Fatalf("down: exit %d, stdout %q", code, out)
	}
	if code, out, _ := cli(t, env, "migrate", "status"); code != 0 || !strings.Contains(out, "pending") {
		t.Fatalf("status after down: exit %d, stdout %q", code, out)
	}
	if code, out, _ := cli(t, env, "migrate", "up"); code != 0 || !strings.Contains(out, "applied") {
		t.Fatalf("up: exit %d, stdout %q", code, out)
	}
	if code, _, errOut := cli(t, env, "migrate", "sideways"); code != 2 || !strings.Contains(errOut, "usage") {
		t.Errorf("bad action: exit %d, stderr %q", code, errOut)
	}
}

func TestBadConfigurationStopsStartup(t *testing.T) {
	code, _, errOut := cli(t, map[string]string{
		"APP_SESSION_TTL":         "soon",
		"APP_SECURITY_JWT_SECRET": "short",
		"APP_LOG_FORMAT":          "xml",
		"APP_DATABASE_URL":        "postgres://127.0.0.1:1/none",
	}, "serve")
	if code != 1 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, key := range []string{"session.ttl", "security.jwt_secret", "log.format"} {
		if !strings.Contains(errOut, key) {
			t.Errorf("stderr does not name %s: %q", key, errOut)
		}
	}
	if code, _, _ := cli(t, nil, "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
}

// TestServeAddressInUse: a start that fails (here the port is taken) ends the program
// with exit 1 and one line saying why, not a stack trace.
func TestServeAddressInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	env := map[string]string{"APP_DATABASE_URL": pgtest.NewURL(t), "APP_HTTP_ADDR": taken.Addr().String()}
	code, out, errOut := cli(t, env, "serve")
	if code != 1 || out != "" || !strings.Contains(errOut, "address already in use") ||
		strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"-help"}, {"migrate", "--help"}, {"create-superadmin", "-h"}} {
		// A broken configuration shows that help reads none, and touches no database.
		code, out, errOut := cli(t, map[string]string{"APP_SESSION_TTL": "soon"}, args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage: accounts <command>") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
			continue
		}
		for _, want := range []string{"serve", "migrate up|down|status", "create-superadmin --username NAME", "events tail", "config.toml", "APP_CONFIG", "APP_<SECTION>_<KEY>"} {
			if !strings.Contains(out, want) {
				t.Errorf("%q: usage does not mention %q:\n%s", args, want, out)
			}
		}
	}
	// No command at all is still a mistake: the usage, on standard error, exit 2.
	if code, out, errOut := cli(t, nil); code != 2 || out != "" || !strings.HasPrefix(errOut, "usage: accounts <command>") {
		t.Errorf("no command: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// withPassword is dbURL with a password in it, which the server (trust auth in
// tests) ignores, and the database it names.
func withPassword(t *testing.T, dbURL, password string) (string, *url.URL) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String(), u
}

// TestCommandsNameTheirDatabase: migrate and create-superadmin say on standard error,
// first, which database they work on (host, port, name), never the password.
func TestCommandsNameTheirDatabase(t *testing.T) {
	const password = "pw-never-shown-4c1e"
	dbURL, u := withPassword(t, pgtest.NewURL(t), password)
	want := `using database "` + strings.TrimPrefix(u.Path, "/") + `" on ` + u.Host + "\n"
	env := map[string]string{"APP_DATABASE_URL": dbURL, "APP_SUPERADMIN_PASSWORD": testPassword}

	for _, args := range [][]string{
		{"migrate", "up"},
		{"migrate", "status"},
		{"create-superadmin", "--username", "named.root"},
	} {
		code, _, errOut := cli(t, env, args...)
		if code != 0 || errOut != want {
			t.Errorf("%q: exit %d, stderr %q, want %q", args, code, errOut, want)
		}
		if strings.Contains(errOut, password) {
			t.Errorf("%q: stderr shows the password: %q", args, errOut)
		}
	}
	// A database that cannot be reached is named too, before the error.
	unreachable, _ := withPassword(t, "postgres://postgres@127.0.0.1:1/elsewhere?sslmode=disable", password)
	code, _, errOut := cli(t, map[string]string{"APP_DATABASE_URL": unreachable}, "migrate", "status")
	if code != 1 || !strings.HasPrefix(errOut, `using database "elsewhere" on 127.0.0.1:1`+"\n") || strings.Contains(errOut, password) {
		t.Errorf("unreachable: exit %d, stderr %q", code, errOut)
	}
}

// TestServeNamesItsDatabaseAndStopsCleanly runs the built program: serve logs which
// database it uses (without the password), and SIGINT (Ctrl-C) or SIGTERM stops it
// gracefully with exit status 0.
func TestServeNamesItsDatabaseAndStopsCleanly(t *testing.T) {
	t.Parallel()
	bin := buildService(t)
	const password = "pw-never-logged-9b2d"
	dbURL, u := withPassword(t, pgtest.NewURL(t), password)
	env := []string{
		"APP_CONFIG=" + absPath(t, "../config.toml"),
		"APP_DATABASE_URL=" + dbURL,
		"APP_LOG_FORMAT=json",
		"APP_LOG_LEVEL=info",
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		c := startChild(t, bin, env)
		if err := c.cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- c.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%v: the service ended with %v, want exit status 0\n%s", sig, err, c.output)
			}
		case <-time.After(30 * time.Second):
			_ = c.cmd.Process.Kill()
			t.Fatalf("%v: the service did not stop\n%s", sig, c.output)
		}

		output := c.output.String()
		if strings.Contains(output, password) {
			t.Errorf("%v: the log shows the password:\n%s", sig, output)
		}
		var named bool
		sc := bufio.NewScanner(strings.NewReader(output))
		for sc.Scan() {
			var line struct{ Msg, Database, Host string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "using database" {
				named = line.Database == strings.TrimPrefix(u.Path, "/") && line.Host == u.Host
			}
		}
		if !named {
			t.Errorf("%v: no log line names database %s on %s:\n%s", sig, u.Path, u.Host, output)
		}
	}
}

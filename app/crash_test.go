package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/example/accounts/adapters/broker/brokertest"
	"github.com/example/accounts/adapters/outbox"
	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/adapters/postgres/pgtest"
)

// The crash test's budget: a few rounds in `make test`, many more with
// `make test-crash`.
var (
	crashRounds = flag.Int("crash.rounds", 3, "rounds of TestCrashSafety: a burst of changes cut short by kill -9")
	crashUsers  = flag.Int("crash.users", 120, "users TestCrashSafety works on")
)

// TestCrashSafety runs the built service as a child process, sends it a burst of
// concurrent changes (inactivations, reactivations, grants, revokes, logins) and
// kills it with SIGKILL at a random moment, several times over; then it restarts
// it, lets the outbox drain, and checks the promises of the events against the
// database, which alone knows what committed:
//   - every committed change has its event at the broker (a user at version V has
//     events 1…V), and no change that did not commit has one (no sequence above V,
//     no two events for one sequence), whatever a kill interrupted;
//   - each user's last events say its current role and state;
//   - no session of an inactive user is left, nor any from before an inactivation;
//   - nothing was parked.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	bin := buildService(t)
	stream := brokertest.NewStream(t)
	dbURL := pgtest.NewURL(t)
	env := []string{
		"APP_CONFIG=" + absPath(t, "../config.toml"),
		"APP_DATABASE_URL=" + dbURL,
		"APP_SECURITY_BCRYPT_COST=4",
		"APP_SECURITY_HASH_WAIT=10s",
		"APP_RATELIMIT_LOGIN_PER_MINUTE_IP=0",
		"APP_RATELIMIT_LOGIN_PER_MINUTE_ACCOUNT=0",
		"APP_RATELIMIT_HASH_PER_MINUTE_IP=0",
		"APP_LOG_LEVEL=warn",
		"APP_LOG_FORMAT=json",
		"APP_EVENTS_BROKER=nats",
		"APP_EVENTS_NATS_URL=" + brokertest.NATSURL(),
		"APP_EVENTS_NATS_STREAM=" + stream.Name,
		"APP_EVENTS_NATS_SUBJECT=" + stream.Subject,
		"APP_EVENTS_POLL_INTERVAL=20ms",
	}

	out, err := runCommand(bin, env, []string{"APP_SUPERADMIN_PASSWORD=" + testPassword}, "create-superadmin", "--username", "crash.root")
	if err != nil {
		t.Fatalf("create-superadmin: %v\n%s", err, out)
	}
	svc := startChild(t, bin, env)
	root := svc.login(t, "crash.root")
	users := make([]string, *crashUsers)
	names := make(map[string]string, len(users))
	for i := range users {
		name := fmt.Sprintf("crash.user%d", i)
		users[i] = root.createUser(t, name)
		names[users[i]] = name
		for range 2 {
			svc.login(t, name)
		}
	}

	for round := range *crashRounds {
		if round > 0 {
			svc = startChild(t, bin, env)
		}
		stop := burst(svc.url, root.jar, users, names)
		time.Sleep(time.Duration(200+rand.IntN(800)) * time.Millisecond)
		svc.kill(t)
		stop()
	}

	startChild(t, bin, env)
	db, err := postgres.Open(t.Context(), postgres.Config{URL: dbURL, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitFor(t, "the outbox to drain", func() bool { return drained(t, db) })
	checkEventsAgainstDatabase(t, db, stream)
	checkNoStaleSessions(t, db)
	if parked, err := outbox.ListParked(t.Context(), db.DB); err != nil || len(parked) != 0 {
		t.Errorf("parked events: %+v, %v", parked, err)
	}
}

// built is the program, built once for every test that runs it as a process; TestMain
// removes it.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// buildService builds the program once per test run.
func buildService(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "accounts-test-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "accounts")
		if out, err := exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

func absPath(t testing.TB, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// runCommand runs one command of the program to its end.
func runCommand(bin string, env, extra []string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), env...), extra...)
	return cmd.CombinedOutput()
}

// child is the service running as a process of its own.
type child struct {
	cmd    *exec.Cmd
	url    string
	output *lockedBuffer
}

// startChild starts `serve` on a free port and waits until it is ready; it is
// killed when the test ends if still running.
func startChild(t testing.TB, bin string, env []string) *child {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c := &child{cmd: exec.Command(bin, "serve"), url: "http://" + addr, output: &lockedBuffer{}}
	// An admin listener of its own unless env says otherwise (the last of a
	// variable given twice wins).
	c.cmd.Env = append(append(append(os.Environ(), "APP_ADMIN_ADDR=127.0.0.1:0"), env...), "APP_HTTP_ADDR="+addr)
	c.cmd.Stdout, c.cmd.Stderr = c.output, c.output
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(c.url + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		if time.Now().After(deadline) || c.cmd.ProcessState != nil {
			t.Fatalf("the service did not become ready: %v\n%s", err, c.output.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the process at once, as a crash or an OOM kill would.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

// session is a logged-in caller of a child.
type session struct {
	url string
	jar http.CookieJar
}

func (c *child) login(t *testing.T, username string) session {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := session{url: c.url, jar: jar}
	status, body, err := s.do(http.MethodPost, "/api/v1/account/login", fmt.Sprintf(`{"username":%q,"password":%q}`, username, testPassword))
	if err != nil || status != http.StatusNoContent {
		t.Fatalf("login %s: %d %s %v", username, status, body, err)
	}
	return s
}

func (s session) createUser(t *testing.T, username string) string {
	t.Helper()
	status, body, err := s.do(http.MethodPost, "/api/v1/users", fmt.Sprintf(`{"username":%q,"password":%q,"role":"user"}`, username, testPassword))
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create %s: %d %s %v", username, status, body, err)
	}
	var created struct{ ID string }
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	return created.ID
}

var crashClient = &http.Client{Timeout: 5 * time.Second}

func (s session) do(method, path, body string) (int, []byte, error) {
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := *crashClient
	client.Jar = s.jar
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// burst sends changes from 16 concurrent clients until stopped; requests cut off
// by a kill fail, and nobody can tell whether their change committed: that is the
// point.
func burst(url string, rootJar http.CookieJar, users []string, names map[string]string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	root := session{url: url, jar: rootJar}
	for range 16 {
		wg.Go(func() {
			for ctx.Err() == nil {
				id := users[rand.IntN(len(users))]
				switch rand.IntN(5) {
				case 0:
					_, _, _ = root.do(http.MethodDelete, "/api/v1/users/"+id+"/activation", "")
				case 1:
					_, _, _ = root.do(http.MethodPut, "/api/v1/users/"+id+"/activation", "")
				case 2:
					_, _, _ = root.do(http.MethodPut, "/api/v1/users/"+id+"/roles/admin", "")
				case 3:
					_, _, _ = root.do(http.MethodDelete, "/api/v1/users/"+id+"/roles/admin", "")
				case 4:
					jar, _ := cookiejar.New(nil)
					s := session{url: url, jar: jar}
					_, _, _ = s.do(http.MethodPost, "/api/v1/account/login", fmt.Sprintf(`{"username":%q,"password":%q}`, names[id], testPassword))
				}
			}
		})
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// drained reports whether every consumer group has handled every event.
func drained(t *testing.T, db *bun.DB) bool {
	t.Helper()
	var groups []string
	if err := db.NewRaw("SELECT consumer_group FROM watermill_offsets_user_events").Scan(t.Context(), &groups); err != nil {
		t.Fatal(err)
	}
	if len(groups) < 2 {
		return false
	}
	for _, g := range groups {
		lag, err := outbox.GroupLag(t.Context(), db.DB, g)
		if err != nil || lag.Events > 0 {
			return false
		}
	}
	return true
}

// checkEventsAgainstDatabase compares the events at the broker with what the
// database says committed.
func checkEventsAgainstDatabase(t *testing.T, db *bun.DB, stream *brokertest.Stream) {
	t.Helper()
	type userRow struct {
		ID       string `bun:"id"`
		Role     string `bun:"role"`
		IsActive bool   `bun:"is_active"`
		Version  int64  `bun:"version"`
	}
	var rows []userRow
	if err := db.NewRaw("SELECT id, role, is_active, version FROM users").Scan(t.Context(), &rows); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, u := range rows {
		total += int(u.Version)
	}

	type event struct {
		EventID  string            `json:"event_id"`
		Type     string            `json:"type"`
		UserID   string            `json:"user_id"`
		Sequence int64             `json:"sequence"`
		Data     map[string]string `json:"data"`
	}
	bySequence := map[string]map[int64]event{} // user → sequence → event
	for _, m := range stream.Messages(t, total) {
		var e event
		if err := json.Unmarshal(m.Data(), &e); err != nil {
			t.Fatalf("event %s: %v", m.Data(), err)
		}
		if bySequence[e.UserID] == nil {
			bySequence[e.UserID] = map[int64]event{}
		}
		if other, ok := bySequence[e.UserID][e.Sequence]; ok && other.EventID != e.EventID {
			t.Errorf("user %s has two events for sequence %d: %s and %s", e.UserID, e.Sequence, other.Type, e.Type)
		}
		bySequence[e.UserID][e.Sequence] = e
	}

	changes := 0
	for _, u := range rows {
		events := bySequence[u.ID]
		role, active := "", true
		for seq := int64(1); seq <= u.Version; seq++ {
			e, ok := events[seq]
			if !ok {
				t.Errorf("user %s (version %d) has no event for sequence %d", u.ID, u.Version, seq)
				continue
			}
			switch e.Type {
			case "user.created", "user.signed_up":
				role = e.Data["role"]
			case "user.role_changed":
				role = e.Data["to"]
			case "user.inactivated":
				active = false
			case "user.reactivated":
				active = true
			}
		}
		if len(events) != int(u.Version) {
			t.Errorf("user %s at version %d has %d events: some for changes that never committed", u.ID, u.Version, len(events))
		}
		if role != u.Role || active != u.IsActive {
			t.Errorf("user %s: events say %s/active=%v, the database %s/active=%v", u.ID, role, active, u.Role, u.IsActive)
		}
		changes += int(u.Version) - 1
	}
	t.Logf("%d users, %d committed changes after their creation, all accounted for", len(rows), changes)
}

// checkNoStaleSessions: once the outbox has drained, no session of an inactive
// user is left, nor any begun before its user's last inactivation.
func checkNoStaleSessions(t *testing.T, db *bun.DB) {
	t.Helper()
	var n int
	err := db.NewRaw(`SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE NOT u.is_active OR s.user_version < u.sessions_valid_from`).Scan(t.Context(), &n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d sessions of inactive users or from before an inactivation are left", n)
	}
}

// lockedBuffer collects a child's output from its two pipes at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/accounts/adapters/password"
	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/adapters/postgres/pgtest"
)

// BenchmarkAPI drives the service as its users would: the built program runs as a
// process of its own on a throwaway database seeded with $USERS users (default
// 10,000) by SQL, at the shipped bcrypt cost, and a closed-loop load generator
// sends each request for a few seconds from 16 clients (and the list pages from
// one client too). Each sub-benchmark reports requests per second, p50/p90/p99 in
// milliseconds and the service's resident memory after its run; /me also runs from
// 256 clients, to show it holds up under many at once. For login it also
// reports how close it comes to the bound the hashing allows: the hashing slots
// (one per CPU) divided by the time one hash takes.
func BenchmarkAPI(b *testing.B) {
	users := 10000
	if n, err := strconv.Atoi(os.Getenv("USERS")); err == nil && n > 0 {
		users = n
	}
	api := startLoadTarget(b, users)

	page1 := api.url + "/api/v1/users"
	deep := fmt.Sprintf("%s/api/v1/users?sorting_field=username&sorting_order=asc&offset=%d", api.url, max(users-100, 0))
	cursor := api.cursorPage(b, users/2)
	var next atomic.Int64
	runs := []struct {
		name    string
		clients int
		request func() *http.Request
	}{
		{"me", 16, api.get(api.url + "/api/v1/account/me")},
		{"me-256-clients", 256, api.get(api.url + "/api/v1/account/me")},
		{"users-page1", 16, api.get(page1)},
		{"users-page1-one-client", 1, api.get(page1)},
		{"users-deep-offset", 16, api.get(deep)},
		{"users-cursor", 16, api.get(cursor)},
		{"users-cursor-one-client", 1, api.get(cursor)},
		// Four clients for the two endpoints that hash: twice the hashing slots
		// keeps every slot busy, while more would only queue for a slot, past
		// [security] hash_wait, and be answered 503.
		{"login", 4, func() *http.Request {
			i := next.Add(1) % int64(users)
			if i%7 == 0 {
				i++ // seedUsers made every seventh user inactive
			}
			return api.post("/api/v1/account/login", fmt.Sprintf(`{"username":"user%d","password":%q}`, i, testPassword), false)
		}},
		{"create-user", 4, func() *http.Request {
			return api.post("/api/v1/users", fmt.Sprintf(`{"username":"new%d","password":%q,"role":"user"}`, next.Add(1), testPassword), true)
		}},
	}
	for _, run := range runs {
		b.Run(run.name, func(b *testing.B) {
			for range b.N {
				r := generateLoad(run.request, run.clients, 3*time.Second)
				if r.failed > 0 {
					b.Errorf("%d of %d requests failed: %v", r.failed, r.requests, r.statuses)
				}
				b.ReportMetric(r.rps, "req/s")
				b.ReportMetric(r.p50, "p50-ms")
				b.ReportMetric(r.p90, "p90-ms")
				b.ReportMetric(r.p99, "p99-ms")
				b.ReportMetric(api.rssMB(b), "rss-MB")
				if run.name == "login" {
					b.ReportMetric(r.rps/api.loginBound(b), "x-hash-bound")
				}
			}
		})
	}
}

// loadTarget is the service under load and what requests need.
type loadTarget struct {
	url    string
	cookie *http.Cookie
	child  *child
	cfg    Config
}

// startLoadTarget builds and starts the service on a database of users users, all
// with the password testPassword, and logs a super admin in.
func startLoadTarget(b *testing.B, users int) *loadTarget {
	b.Helper()
	return seedLoadTarget(b, users).start(b)
}

// loadFixture is the built service and its seeded database, ready to be served by
// one process or several.
type loadFixture struct {
	bin string
	cfg Config
	env []string
}

// seedLoadTarget builds the service and seeds a database of users users, all with
// the password testPassword, and a super admin.
func seedLoadTarget(b *testing.B, users int) loadFixture {
	b.Helper()
	bin := buildService(b)
	dbURL := pgtest.NewURL(b)
	cfg := testConfig(b, map[string]string{"APP_DATABASE_URL": dbURL, "APP_SECURITY_BCRYPT_COST": "11"})
	seedUsers(b, cfg, users)
	env := []string{
		"APP_CONFIG=" + absPath(b, "../config.toml"),
		"APP_DATABASE_URL=" + dbURL,
		"APP_RATELIMIT_LOGIN_PER_MINUTE_IP=0",
		"APP_RATELIMIT_LOGIN_PER_MINUTE_ACCOUNT=0",
		"APP_RATELIMIT_HASH_PER_MINUTE_IP=0",
		"APP_LOG_LEVEL=warn",
		"APP_LOG_FORMAT=json",
	}
	if out, err := runCommand(bin, env, []string{"APP_SUPERADMIN_PASSWORD=" + testPassword}, "create-superadmin", "--username", "load.root"); err != nil {
		b.Fatalf("create-superadmin: %v\n%s", err, out)
	}
	return loadFixture{bin: bin, cfg: cfg, env: env}
}

// start serves the fixture's database with one more process, its environment
// extended by extra, and logs the super admin in.
func (f loadFixture) start(b *testing.B, extra ...string) *loadTarget {
	b.Helper()
	cfg := f.cfg
	t := &loadTarget{child: startChild(b, f.bin, append(slices.Clone(f.env), extra...)), cfg: cfg}
	t.url = t.child.url
	resp, err := http.Post(t.url+"/api/v1/account/login", "application/json",
		strings.NewReader(fmt.Sprintf(`{"username":"load.root","password":%q}`, testPassword)))
	if err != nil {
		b.Fatal(err)
	}
	_ = resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == cfg.Cookie.Name {
			t.cookie = c
		}
	}
	if t.cookie == nil {
		b.Fatalf("login: %d, no cookie", resp.StatusCode)
	}
	return t
}

// seedUsers inserts users users in one statement, all with one hash of
// testPassword made as the service makes them.
func seedUsers(b *testing.B, cfg Config, users int) {
	b.Helper()
	hasher, err := newHasher(cfg)
	if err != nil {
		b.Fatal(err)
	}
	hash, err := hasher.Hash(context.Background(), testPassword)
	if err != nil {
		b.Fatal(err)
	}
	db, err := postgres.Open(context.Background(), postgres.Config{URL: cfg.Database.URL, MaxOpenConns: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	// Ids and timestamps spread like real ones; created_at one second apart.
	_, err = db.ExecContext(context.Background(), `
		INSERT INTO users (id, username, password_hash, password_changed_at, role, is_active, created_at, updated_at, version)
		SELECT md5(i::text)::uuid, 'user' || i, ?, now(), CASE WHEN i % 10 = 0 THEN 'admin' ELSE 'user' END,
		       i % 7 <> 0, now() - i * interval '1 second', now() - (i % 1000) * interval '1 minute', 1
		FROM generate_series(0, ? - 1) AS i`, hash, users)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), "ANALYZE users"); err != nil {
		b.Fatal(err)
	}
}

func (t *loadTarget) get(url string) func() *http.Request {
	return func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.AddCookie(t.cookie)
		return req
	}
}

func (t *loadTarget) post(path, body string, withCookie bool) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, t.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if withCookie {
		req.AddCookie(t.cookie)
	}
	return req
}

// cursorPage is the URL of the page of users deep in the list, sorted by
// username, that a client reaches by following next_cursor from page to page.
func (t *loadTarget) cursorPage(b *testing.B, depth int) string {
	b.Helper()
	url := t.url + "/api/v1/users?sorting_field=username&sorting_order=asc&limit=100"
	for seen := 0; seen < depth; seen += 100 {
		resp, err := http.DefaultClient.Do(t.get(url)())
		if err != nil {
			b.Fatal(err)
		}
		var page struct {
			NextCursor *string `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		_ = resp.Body.Close()
		if err != nil || page.NextCursor == nil {
			b.Fatalf("page after %d users: %d, next_cursor %v, %v", seen, resp.StatusCode, page.NextCursor, err)
		}
		url = t.url + "/api/v1/users?sorting_field=username&sorting_order=asc&limit=20&cursor=" + *page.NextCursor
	}
	return url
}

// rssMB is the service's resident memory, from /proc.
func (t *loadTarget) rssMB(b *testing.B) float64 {
	b.Helper()
	return childRSS(b, t.child)
}

// loginBound is the most logins per second the hashing allows: one hash per slot
// at a time, one slot per CPU by default.
func (t *loadTarget) loginBound(b *testing.B) float64 {
	b.Helper()
	hasher, err := password.NewHasher(password.Config{
		Pepper: []byte(t.cfg.Security.PasswordPepper), Cost: t.cfg.Security.BcryptCost, Concurrency: 1, Wait: time.Minute,
	})
	if err != nil {
		b.Fatal(err)
	}
	const n = 5
	start := time.Now()
	for range n {
		if _, err := hasher.Hash(context.Background(), testPassword); err != nil {
			b.Fatal(err)
		}
	}
	perHash := time.Since(start) / n
	return float64(runtime.NumCPU()) / perHash.Seconds()
}

// loadResult is what one run of the load generator saw.
type loadResult struct {
	requests, failed int
	statuses         map[int]int
	rps              float64
	p50, p90, p99    float64 // milliseconds
}

// generateLoad sends requests from clients concurrent clients, each sending its
// next request when the last one is answered, for d.
func generateLoad(request func() *http.Request, clients int, d time.Duration) loadResult {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 10 * time.Second}
	var mu sync.Mutex
	var latencies []time.Duration
	r := loadResult{statuses: map[int]int{}}
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			statuses := map[int]int{}
			for time.Now().Before(deadline) {
				sent := time.Now()
				resp, err := client.Do(request())
				if err != nil {
					statuses[0]++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				mine = append(mine, time.Since(sent))
				statuses[resp.StatusCode]++
			}
			mu.Lock()
			defer mu.Unlock()
			latencies = append(latencies, mine...)
			for s, n := range statuses {
				r.statuses[s] += n
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	at := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return ms(latencies[int(p*float64(len(latencies)-1))])
	}
	for s, n := range r.statuses {
		r.requests += n
		if s < 200 || s > 299 {
			r.failed += n
		}
	}
	r.rps = float64(r.requests-r.failed) / elapsed.Seconds()
	r.p50, r.p90, r.p99 = at(0.50), at(0.90), at(0.99)
	return r
}

package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/example/accounts/adapters/postgres/pgtest"
)

// TestLimitsHoldAcrossInstances runs two service processes on one database, as two
// replicas behind a load balancer: the failed-login limit of an account and the
// hashing budget of an address hold for both together, whichever instance each
// request reaches.
func TestLimitsHoldAcrossInstances(t *testing.T) {
	t.Parallel()
	bin := buildService(t)
	env := []string{
		"APP_CONFIG=" + absPath(t, "../config.toml"),
		"APP_DATABASE_URL=" + pgtest.NewURL(t),
		"APP_SECURITY_BCRYPT_COST=4",
		"APP_LOG_LEVEL=warn",
		"APP_LOG_FORMAT=json",
		"APP_RATELIMIT_LOGIN_PER_MINUTE_ACCOUNT=4",
		"APP_RATELIMIT_LOGIN_PER_MINUTE_IP=1000",
		"APP_RATELIMIT_HASH_PER_MINUTE_IP=60",
		"APP_RATELIMIT_HASH_BURST_IP=6",
	}
	if out, err := runCommand(bin, env, []string{"APP_SUPERADMIN_PASSWORD=" + testPassword}, "create-superadmin", "--username", "shared.root"); err != nil {
		t.Fatalf("create-superadmin: %v\n%s", err, out)
	}
	instances := []*child{startChild(t, bin, env), startChild(t, bin, env)}

	post := func(ip string, instance int, path string, body map[string]string) (int, string) {
		t.Helper()
		data, _ := json.Marshal(body)
		client := &http.Client{Transport: fromAddr(t, ip)}
		resp, err := client.Post(instances[instance].url+path, "application/json", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		var p struct{ Code string }
		_ = json.NewDecoder(resp.Body).Decode(&p)
		if resp.StatusCode == http.StatusTooManyRequests {
			if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || secs < 1 {
				t.Errorf("429 with Retry-After %q", resp.Header.Get("Retry-After"))
			}
		}
		return resp.StatusCode, p.Code
	}
	login := func(instance int, password string) (int, string) {
		return post("127.0.0.1", instance, "/api/v1/account/login", map[string]string{"username": "shared.root", "password": password})
	}

	// Four wrong passwords, two at each instance, use the account's limit up.
	for i := range 4 {
		if status, code := login(i%2, "wrong-password"); status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d at instance %d: %d %s, want 401", i+1, i%2, status, code)
		}
	}
	for instance := range instances {
		if status, code := login(instance, testPassword); status != http.StatusTooManyRequests || code != "rate_limited" {
			t.Errorf("the right password at instance %d after 4 failures across both: %d %s, want 429", instance, status, code)
		}
	}

	// Six signups from one address, alternating, spend its burst of six hashes.
	for i := range 6 {
		if status, code := post("127.0.0.3", i%2, "/api/v1/account/signup",
			map[string]string{"username": "shared.user" + strconv.Itoa(i), "password": testPassword}); status != http.StatusCreated {
			t.Fatalf("signup %d at instance %d: %d %s, want 201", i+1, i%2, status, code)
		}
	}
	for instance := range instances {
		if status, code := post("127.0.0.3", instance, "/api/v1/account/signup",
			map[string]string{"username": "shared.more" + strconv.Itoa(instance), "password": testPassword}); status != http.StatusTooManyRequests {
			t.Errorf("a seventh signup at instance %d: %d %s, want 429", instance, status, code)
		}
	}
	// Another address has its own budget.
	if status, code := post("127.0.0.4", 1, "/api/v1/account/signup",
		map[string]string{"username": "shared.other", "password": testPassword}); status != http.StatusCreated {
		t.Errorf("a signup from another address: %d %s, want 201", status, code)
	}
}

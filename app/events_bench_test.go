package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"

	"github.com/example/accounts/adapters/broker/brokertest"
	"github.com/example/accounts/adapters/outbox"
	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/domain"
)

// benchService is the service publishing to a throwaway NATS stream, logging
// nothing, with a logged-in super admin.
type benchService struct {
	url    string
	root   *http.Client
	stream *brokertest.Stream
	db     *sql.DB
	stop   func()
}

func startBenchService(b *testing.B, env map[string]string) *benchService {
	b.Helper()
	stream := brokertest.NewStream(b)
	vars := map[string]string{
		"APP_DATABASE_URL":                       pgtest.NewURL(b),
		"APP_LOG_LEVEL":                          "error",
		"APP_EVENTS_BROKER":                      "nats",
		"APP_EVENTS_NATS_URL":                    brokertest.NATSURL(),
		"APP_EVENTS_NATS_STREAM":                 stream.Name,
		"APP_EVENTS_NATS_SUBJECT":                stream.Subject,
		"APP_RATELIMIT_LOGIN_PER_MINUTE_ACCOUNT": "0",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg := testConfig(b, vars)
	db, err := openDatabase(context.Background(), cfg, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	l := &listener{}
	app := fxtest.New(b, serviceOptions(cfg, zap.NewNop(), db, l))
	app.RequireStart()
	if err := createSuperAdmin(cfg, zap.NewNop(), "bench.root", testPassword, io.Discard); err != nil {
		b.Fatal(err)
	}
	s := &benchService{url: "http://" + l.Addr().String(), stream: stream, db: db.DB,
		stop: func() { app.RequireStop(); _ = db.Close() }}
	s.root = s.login(b, "bench.root")
	return s
}

func (s *benchService) login(b *testing.B, username string) *http.Client {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	status := s.send(b, c, http.MethodPost, "/api/v1/account/login", fmt.Sprintf(`{"username":%q,"password":%q}`, username, testPassword))
	if status != http.StatusNoContent {
		b.Fatalf("login %s: %d", username, status)
	}
	return c
}

func (s *benchService) createUser(b *testing.B, username string) string {
	b.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/v1/users",
		strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q,"role":"user"}`, username, testPassword)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.root.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatalf("create %s: %v %v", username, resp, err)
	}
	defer resp.Body.Close()
	loc := resp.Header.Get("Location")
	return loc[len("/api/v1/users/"):]
}

// send sends one request and returns its status, or 0 when it could not be sent.
func (s *benchService) send(b *testing.B, c *http.Client, method, path, body string) int {
	req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		b.Error(err)
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// toggle grants or revokes admin: one committed change, one event.
func (s *benchService) toggle(b *testing.B, c *http.Client, userID string, grant bool) {
	method := http.MethodDelete
	if grant {
		method = http.MethodPut
	}
	if status := s.send(b, c, method, "/api/v1/users/"+userID+"/roles/admin", ""); status != http.StatusNoContent {
		b.Errorf("toggle: %d", status)
	}
}

// BenchmarkCommitToBroker measures how long an event takes from its commit to the
// broker at light load: one change at a time, at a random moment, the time from
// the API's answer (the change has committed) to a plain JetStream consumer
// receiving its event. Most of it is the wait for the group's next poll: about
// half the poll interval on average, the whole of it at worst.
func BenchmarkCommitToBroker(b *testing.B) {
	for _, poll := range []time.Duration{250 * time.Millisecond, 20 * time.Millisecond} {
		b.Run(fmt.Sprint("poll=", poll), func(b *testing.B) {
			s := startBenchService(b, map[string]string{"APP_EVENTS_POLL_INTERVAL": poll.String()})
			defer s.stop()
			userID := s.createUser(b, "bench.target")
			// Every earlier event at the broker first, so that each arrival
			// below is the change just made.
			waitForLag(b, s.db, groupPublishTo+"nats")
			received := s.follow(b)

			const samples = 40
			var latencies []time.Duration
			b.ResetTimer()
			for range b.N {
				latencies = latencies[:0]
				for i := range samples {
					time.Sleep(rand.N(poll))
					s.toggle(b, s.root, userID, i%2 == 0)
					committed := time.Now()
					select {
					case at := <-received:
						latencies = append(latencies, at.Sub(committed))
					case <-time.After(10 * time.Second):
						b.Fatal("no event within 10s")
					}
				}
			}
			slices.Sort(latencies)
			b.ReportMetric(ms(latencies[len(latencies)/2]), "p50-ms")
			b.ReportMetric(ms(latencies[len(latencies)*99/100]), "p99-ms")
		})
	}
}

// follow delivers the arrival time of every event stored in the stream from now
// on, as a plain consumer sees it.
func (s *benchService) follow(b *testing.B) <-chan time.Time {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	waitForStream(b, s.stream)
	consumer, err := s.stream.JS.OrderedConsumer(ctx, s.stream.Name, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverNewPolicy,
	})
	if err != nil {
		b.Fatal(err)
	}
	arrivals := make(chan time.Time, 1024)
	cc, err := consumer.Consume(func(jetstream.Msg) { arrivals <- time.Now() })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cc.Stop)
	return arrivals
}

func waitForStream(b *testing.B, stream *brokertest.Stream) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := stream.JS.Stream(context.Background(), stream.Name); err == nil {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("the service did not declare its stream")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkEventThroughput sets the rate at which the API commits changes against
// the rate at which the outbox delivers them to the broker. First 64 clients grant
// and revoke admin as fast as the API allows, each on a user of its own, while the
// broker group's lag is sampled: it must stay bounded, not grow with time. Then a
// backlog written straight into the outbox shows how fast the group drains it.
func BenchmarkEventThroughput(b *testing.B) {
	s := startBenchService(b, nil)
	defer s.stop()
	const clients = 64
	const load = 5 * time.Second
	targets := make([]string, clients)
	for i := range targets {
		targets[i] = s.createUser(b, fmt.Sprintf("bench.user%d", i))
	}
	db := s.db
	group := groupPublishTo + "nats"
	b.ResetTimer()

	for range b.N {
		// The API at full tilt.
		var changes atomic.Int64
		var lags []int
		ctx, cancel := context.WithTimeout(context.Background(), load)
		var wg sync.WaitGroup
		for _, userID := range targets {
			wg.Go(func() {
				for grant := true; ctx.Err() == nil; grant = !grant {
					s.toggle(b, s.root, userID, grant)
					changes.Add(1)
				}
			})
		}
		wg.Go(func() {
			for ctx.Err() == nil {
				if lag, err := outbox.GroupLag(context.Background(), db, group); err == nil {
					lags = append(lags, lag.Events)
				}
				time.Sleep(250 * time.Millisecond)
			}
		})
		wg.Wait()
		cancel()
		drainStart := time.Now()
		waitForLag(b, db, group)
		b.ReportMetric(float64(changes.Load())/load.Seconds(), "api-changes/s")
		b.ReportMetric(float64(slices.Max(lags)), "max-lag-events")
		b.ReportMetric(float64(lags[len(lags)-1]), "end-lag-events")
		b.ReportMetric(float64(time.Since(drainStart).Milliseconds()), "drain-after-ms")

		// A backlog, written in batches while the group runs: the rate it drains at.
		const backlog = 20000
		start := time.Now()
		writeBacklog(b, db, backlog)
		waitForLag(b, db, group)
		b.ReportMetric(backlog/time.Since(start).Seconds(), "broker-events/s")
	}
}

func waitForLag(b *testing.B, db *sql.DB, group string) {
	b.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		lag, err := outbox.GroupLag(context.Background(), db, group)
		if err == nil && lag.Events == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the outbox did not drain: %+v, %v", lag, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// writeBacklog commits n events, 500 to a transaction.
func writeBacklog(b *testing.B, db *sql.DB, n int) {
	b.Helper()
	w := outbox.NewWriter()
	for done := 0; done < n; done += 500 {
		events := make([]domain.Event, 500)
		for i := range events {
			events[i] = domain.Event{
				UserID: fmt.Sprintf("01900000-0000-7000-8000-%012d", done+i), Sequence: 1,
				OccurredAt: time.Now(), Data: domain.UserInactivated{},
			}
		}
		tx, err := db.BeginTx(context.Background(), nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Write(context.Background(), tx, events); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

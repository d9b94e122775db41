package metrics

import (
	"context"
	"time"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

// Store counts the sessions the use cases begin and end through store, each end
// by its reason, which the Sessions method used tells:
//
//	Delete           logout        (Logout)
//	DeleteIfExpired  expiry        (Authenticate, a request found it expired)
//	DeleteByUser     password      (ChangeOwnPassword, SetUserPassword)
//	DeleteBefore     inactivation  (EndSessionsOnUserInactivated)
//	DeleteExpired    purge         (PurgeExpiredSessions, the sweeper)
//	DeleteOldest     limit         (Login, past session.max_per_user)
//
// What a transaction does is counted once it commits. The repository outside a
// transaction is wrapped once, here (store.Sessions() is the same repository
// every time): authentication asks for it on every request.
func (m *Metrics) Store(store commands.Store) commands.Store {
	return countingStore{Store: store, m: m, sessions: countingSessions{Sessions: store.Sessions(), count: m.sessions}}
}

type countingStore struct {
	commands.Store
	m        *Metrics
	sessions commands.Sessions
}

func (s countingStore) Sessions() commands.Sessions { return s.sessions }

func (s countingStore) InTx(ctx context.Context, fn func(ctx context.Context, tx commands.Repositories) error) error {
	var t tally
	err := s.Store.InTx(ctx, func(ctx context.Context, tx commands.Repositories) error {
		t = tally{} // a transaction tried again counts once
		return fn(ctx, countingRepositories{Repositories: tx, t: &t})
	})
	if err == nil {
		for _, c := range t {
			s.m.sessions(c.reason, c.n)
		}
	}
	return err
}

// sessions counts n sessions begun (reason "") or ended for reason.
func (m *Metrics) sessions(reason string, n int) {
	if n <= 0 {
		return
	}
	if reason == "" {
		m.sessionsCreated.Add(float64(n))
		return
	}
	m.sessionsEnded.WithLabelValues(reason).Add(float64(n))
}

type count struct {
	reason string
	n      int
}

// tally is what a transaction has done so far.
type tally []count

func (t *tally) add(reason string, n int) { *t = append(*t, count{reason, n}) }

type countingRepositories struct {
	commands.Repositories
	t *tally
}

func (r countingRepositories) Sessions() commands.Sessions {
	return countingSessions{Sessions: r.Repositories.Sessions(), count: r.t.add}
}

type countingSessions struct {
	commands.Sessions
	count func(reason string, n int)
}

func (s countingSessions) Add(ctx context.Context, session *domain.Session) error {
	err := s.Sessions.Add(ctx, session)
	if err == nil {
		s.count("", 1)
	}
	return err
}

func (s countingSessions) Delete(ctx context.Context, id string) (int, error) {
	return s.counted("logout")(s.Sessions.Delete(ctx, id))
}

func (s countingSessions) DeleteIfExpired(ctx context.Context, id string, now time.Time) (int, error) {
	return s.counted("expiry")(s.Sessions.DeleteIfExpired(ctx, id, now))
}

func (s countingSessions) DeleteByUser(ctx context.Context, userID, keep string) (int, error) {
	return s.counted("password")(s.Sessions.DeleteByUser(ctx, userID, keep))
}

func (s countingSessions) DeleteBefore(ctx context.Context, userID string, version int64) (int, error) {
	return s.counted("inactivation")(s.Sessions.DeleteBefore(ctx, userID, version))
}

func (s countingSessions) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	return s.counted("purge")(s.Sessions.DeleteExpired(ctx, now, limit))
}

func (s countingSessions) DeleteOldest(ctx context.Context, userID, keep string, now time.Time, limit int) (int, error) {
	return s.counted("limit")(s.Sessions.DeleteOldest(ctx, userID, keep, now, limit))
}

// counted passes a delete's result on, counting what it deleted.
func (s countingSessions) counted(reason string) func(int, error) (int, error) {
	return func(n int, err error) (int, error) {
		if err == nil {
			s.count(reason, n)
		}
		return n, err
	}
}

// LoginThrottle counts the logins throttle refuses.
func (m *Metrics) LoginThrottle(throttle commands.LoginThrottle) commands.LoginThrottle {
	return countingThrottle{LoginThrottle: throttle, refused: m.throttled.WithLabelValues("login")}
}

type countingThrottle struct {
	commands.LoginThrottle
	refused interface{ Inc() }
}

func (t countingThrottle) Begin(ctx context.Context, username, clientAddr string) (time.Duration, func(bool), error) {
	wait, done, err := t.LoginThrottle.Begin(ctx, username, clientAddr)
	if err == nil && wait > 0 {
		t.refused.Inc()
	}
	return wait, done, err
}

// HashBudget counts the requests budget refuses.
func (m *Metrics) HashBudget(budget commands.HashBudget) commands.HashBudget {
	return countingBudget{HashBudget: budget, refused: m.throttled.WithLabelValues("hashing")}
}

type countingBudget struct {
	commands.HashBudget
	refused interface{ Inc() }
}

func (b countingBudget) Spend(ctx context.Context, clientAddr string, n int) (time.Duration, error) {
	wait, err := b.HashBudget.Spend(ctx, clientAddr, n)
	if err == nil && wait > 0 {
		b.refused.Inc()
	}
	return wait, err
}

package commands_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/commands/commandstest"
	"github.com/example/accounts/domain"
)

// t0 is "now" for every test unless a test moves the clock.
var t0 = time.Date(2026, 11, 24, 8, 0, 0, 123456000, time.UTC)

// seededAt is when seeded users were last changed, so that a handler touching
// UpdatedAt is visible.
var seededAt = t0.Add(-48 * time.Hour)

// errOutsideTx is what the fake store answers to a user write made outside InTx: every
// change a command makes must be written whole or not at all.
var errOutsideTx = errors.New("fake store: write outside a transaction")

// ---- Store ----------------------------------------------------------------------

type memState struct {
	users    map[string]domain.UserRecord
	sessions map[string]domain.Session
	// events is the outbox: every event committed, in commit order.
	events []domain.Event
}

func (s memState) clone() memState {
	return memState{users: maps.Clone(s.users), sessions: maps.Clone(s.sessions), events: slices.Clone(s.events)}
}

// apply writes onto s the rows a transaction changed from base to changed, and only
// those, as a database commits a transaction's rows: writes others committed in the
// meantime (a logout outside the transaction) stay.
func (s *memState) apply(base, changed memState) {
	applyRows(s.users, base.users, changed.users)
	applyRows(s.sessions, base.sessions, changed.sessions)
	s.events = append(s.events, changed.events[len(base.events):]...)
}

func applyRows[V comparable](dst, base, changed map[string]V) {
	for id, v := range changed {
		if old, ok := base[id]; !ok || old != v {
			dst[id] = v
		}
	}
	for id := range base {
		if _, ok := changed[id]; !ok {
			delete(dst, id)
		}
	}
}

// PostgreSQL keeps timestamps to the microsecond and hands them back in UTC; the fake
// stores them so too, so that a command test cannot rely on more than that.
func storedTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func storedUser(u domain.UserRecord) domain.UserRecord {
	u.CreatedAt, u.UpdatedAt = storedTime(u.CreatedAt), storedTime(u.UpdatedAt)
	u.PasswordChangedAt = storedTime(u.PasswordChangedAt)
	return u
}

func storedEvents(events []domain.Event) []domain.Event {
	for i := range events {
		events[i].OccurredAt = storedTime(events[i].OccurredAt)
	}
	return events
}

func storedSession(sess domain.Session) domain.Session {
	sess.CreatedAt = storedTime(sess.CreatedAt)
	sess.ExpiresAt = storedTime(sess.ExpiresAt)
	sess.AbsoluteExpiresAt = storedTime(sess.AbsoluteExpiresAt)
	return sess
}

// memStore is an in-memory Store that passes the same contract suite as the
// PostgreSQL store (TestMemStoreContract). InTx works on a copy of the maps and
// applies the rows it changed only when fn succeeds; the unique username index and
// the sessions' foreign key are enforced by the Add methods. Values are copied in
// and out, as a database would, so a handler cannot change stored state except
// through the repositories.
type memStore struct {
	txMu sync.Mutex // one transaction at a time, like row locks on one user
	mu   sync.Mutex
	st   memState

	// fail makes an operation return the error, e.g. fail["sessions.DeleteByUser"].
	fail map[string]error

	commits, rollbacks int
	userUpdates        int
}

func newMemStore() *memStore {
	return &memStore{
		st:   memState{users: map[string]domain.UserRecord{}, sessions: map[string]domain.Session{}},
		fail: map[string]error{},
	}
}

func (s *memStore) Users() commands.Users       { return memUsers{s: s, st: &s.st} }
func (s *memStore) Sessions() commands.Sessions { return memSessions{s: s, st: &s.st} }

func (s *memStore) InTx(ctx context.Context, fn func(context.Context, commands.Repositories) error) error {
	// Like a database, no transaction begins for a request that is out of time.
	if err := ctx.Err(); err != nil {
		return err
	}
	s.txMu.Lock()
	defer s.txMu.Unlock()
	s.mu.Lock()
	base := s.st.clone()
	s.mu.Unlock()
	work := base.clone()

	if err := fn(ctx, memTx{s: s, st: &work}); err != nil {
		s.mu.Lock()
		s.rollbacks++
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	s.st.apply(base, work)
	s.commits++
	s.mu.Unlock()
	return nil
}

type memTx struct {
	s  *memStore
	st *memState
}

func (t memTx) Users() commands.Users       { return memUsers{s: t.s, st: t.st, tx: true} }
func (t memTx) Sessions() commands.Sessions { return memSessions{s: t.s, st: t.st, tx: true} }

func (s *memStore) failure(op string) error { return s.fail[op] }

type memUsers struct {
	s  *memStore
	st *memState
	tx bool
}

func (r memUsers) Add(_ context.Context, u *domain.User) error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if err := r.s.failure("users.Add"); err != nil {
		return err
	}
	if !r.tx {
		return errOutsideTx
	}
	rec := u.Record()
	if _, ok := r.st.users[rec.ID]; ok {
		return fmt.Errorf("fake store: duplicate id %s", rec.ID)
	}
	for _, other := range r.st.users {
		if other.Username == rec.Username {
			return fmt.Errorf("insert user: %w", domain.ErrUsernameTaken)
		}
	}
	r.st.users[rec.ID] = storedUser(rec)
	r.st.events = append(r.st.events, storedEvents(u.PopEvents())...)
	return nil
}

// Get folds the id to lower case: ids are uuids in PostgreSQL, where the letter case
// of the hex digits does not count, and every stored id is lower case.
func (r memUsers) Get(_ context.Context, id string) (*domain.User, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if err := r.s.failure("users.Get"); err != nil {
		return nil, err
	}
	u, ok := r.st.users[strings.ToLower(id)]
	if !ok {
		return nil, fmt.Errorf("user %s: %w", id, domain.ErrNotFound)
	}
	return domain.RestoreUser(u), nil
}

func (r memUsers) GetByUsername(_ context.Context, username string) (*domain.User, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if err := r.s.failure("users.GetByUsername"); err != nil {
		return nil, err
	}
	for _, u := range r.st.users {
		if u.Username == username {
			return domain.RestoreUser(u), nil
		}
	}
	return nil, fmt.Errorf("user %q: %w", username, domain.ErrNotFound)
}

func (r memUsers) Update(_ context.Context, u *domain.User) error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.s.userUpdates++
	if err := r.s.failure("users.Update"); err != nil {
		return err
	}
	if !r.tx {
		return errOutsideTx
	}
	rec := u.Record()
	stored, ok := r.st.users[rec.ID]
	if !ok {
		return fmt.Errorf("user %s: %w", rec.ID, domain.ErrNotFound)
	}
	// Like the PostgreSQL store, only what can change after creation is written; id,
	// username and created_at stay as added.
	stored.PasswordHash, stored.PasswordChangedAt = rec.PasswordHash, rec.PasswordChangedAt
	stored.Role, stored.IsActive, stored.UpdatedAt = rec.Role, rec.IsActive, rec.UpdatedAt
	stored.Version, stored.SessionsValidFrom = rec.Version, rec.SessionsValidFrom
	r.st.users[rec.ID] = storedUser(stored)
	r.st.events = append(r.st.events, storedEvents(u.PopEvents())...)
	return nil
}

type memSessions struct {
	s  *memStore
	st *memState
	tx bool
}

func (r memSessions) Add(_ context.Context, sess *domain.Session) error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if err := r.s.failure("sessions.Add"); err != nil {
		return err
	}
	if _, ok := r.st.sessions[sess.ID]; ok {
		return fmt.Errorf("fake store: duplicate session %s", sess.ID)
	}
	// The foreign key: a session always has its user.
	if _, ok := r.st.users[sess.UserID]; !ok {
		return fmt.Errorf("fake store: session %s of missing user %s", sess.ID, sess.UserID)
	}
	r.st.sessions[sess.ID] = storedSession(*sess)
	return nil
}

func (r memSessions) GetWithUser(_ context.Context, id string) (*domain.Session, *domain.User, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if err := r.s.failure("sessions.GetWithUser"); err != nil {
		return nil, nil, err
	}
	sess, ok := r.st.sessions[id]
	if !ok {
		return nil, nil, fmt.Errorf("session: %w", domain.ErrNotFound)
	}
	u, ok := r.st.users[sess.UserID]
	if !ok {
		return nil, nil, fmt.Errorf("session's user: %w", domain.ErrNotFound)
	}
	return &sess, domain.RestoreUser(u), nil
}

func (r memSessions) Extend(_ context.Context, id string, expiresAt time.Time) error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if err := r.s.failure("sessions.Extend"); err != nil {
		return err
	}
	sess, ok := r.st.sessions[id]
	if !ok {
		return nil
	}
	sess.ExpiresAt = expiresAt
	r.st.sessions[id] = storedSession(sess)
	return nil
}

func (r memSessions) Delete(_ context.Context, id string) (int, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if err := r.s.failure("sessions.Delete"); err != nil {
		return 0, err
	}
	if _, ok := r.st.sessions[id]; !ok {
		return 0, nil
	}
	delete(r.st.sessions, id)
	return 1, nil
}

func (r memSessions) DeleteIfExpired(_ context.Context, id string, now time.Time) (int, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if err := r.s.failure("sessions.DeleteIfExpired"); err != nil {
		return 0, err
	}
	if sess, ok := r.st.sessions[id]; !ok || now.Before(sess.ExpiresAt) {
		return 0, nil
	}
	delete(r.st.sessions, id)
	return 1, nil
}

func (r memSessions) DeleteByUser(_ context.Context, userID, keep string) (int, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if err := r.s.failure("sessions.DeleteByUser"); err != nil {
		return 0, err
	}
	if !r.tx {
		return 0, errOutsideTx
	}
	n := 0
	for id, sess := range r.st.sessions {
		if sess.UserID == userID && id != keep {
			delete(r.st.sessions, id)
			n++
		}
	}
	return n, nil
}

func (r memSessions) DeleteBefore(_ context.Context, userID string, version int64) (int, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if err := r.s.failure("sessions.DeleteBefore"); err != nil {
		return 0, err
	}
	n := 0
	for id, sess := range r.st.sessions {
		if sess.UserID == userID && sess.UserVersion < version {
			delete(r.st.sessions, id)
			n++
		}
	}
	return n, nil
}

func (r memSessions) DeleteExpired(_ context.Context, now time.Time, limit int) (int, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if err := r.s.failure("sessions.DeleteExpired"); err != nil {
		return 0, err
	}
	if limit < 0 {
		return 0, fmt.Errorf("fake store: negative limit %d", limit)
	}
	// Oldest expiry first, as the PostgreSQL store does; ids break ties so that runs
	// repeat.
	var expired []domain.Session
	for _, sess := range r.st.sessions {
		if sess.Expired(now) {
			expired = append(expired, sess)
		}
	}
	slices.SortFunc(expired, func(a, b domain.Session) int {
		return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), cmp.Compare(a.ID, b.ID))
	})
	expired = expired[:min(limit, len(expired))]
	for _, sess := range expired {
		delete(r.st.sessions, sess.ID)
	}
	return len(expired), nil
}

func (r memSessions) DeleteOldest(_ context.Context, userID, keep string, now time.Time, limit int) (int, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if err := r.s.failure("sessions.DeleteOldest"); err != nil {
		return 0, err
	}
	if limit < 1 {
		return 0, fmt.Errorf("fake store: limit %d below 1", limit)
	}
	// Newest first, as the PostgreSQL store orders them; the expired after the live,
	// since they all go.
	var others []domain.Session
	for _, sess := range r.st.sessions {
		if sess.UserID == userID && sess.ID != keep {
			others = append(others, sess)
		}
	}
	slices.SortFunc(others, func(a, b domain.Session) int {
		return cmp.Or(compareBool(a.Expired(now), b.Expired(now)), b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	n := 0
	for i, sess := range others {
		if i >= limit-1 || sess.Expired(now) {
			delete(r.st.sessions, sess.ID)
			n++
		}
	}
	return n, nil
}

// compareBool orders false before true.
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// Test helpers that read and seed committed state directly.

func (s *memStore) putUser(u domain.UserRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.users[u.ID] = u
}

// deleteUser removes a user and, as the foreign key does, its sessions.
func (s *memStore) deleteUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.st.users, id)
	for sid, sess := range s.st.sessions {
		if sess.UserID == id {
			delete(s.st.sessions, sid)
		}
	}
}

func (s *memStore) putSession(sess domain.Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.sessions[sess.ID] = sess
}

func (s *memStore) user(t *testing.T, id string) domain.UserRecord {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.st.users[id]
	if !ok {
		t.Fatalf("no stored user %s", id)
	}
	return u
}

func (s *memStore) userByName(username string) (domain.UserRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.st.users {
		if u.Username == username {
			return u, true
		}
	}
	return domain.UserRecord{}, false
}

// events returns every event committed so far, in commit order.
func (s *memStore) events() []domain.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.events)
}

// userIDs lists every stored user id, sorted.
func (s *memStore) userIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.st.users))
}

func (s *memStore) session(id string) (domain.Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.st.sessions[id]
	return sess, ok
}

// sessionIDs lists every stored session id, sorted.
func (s *memStore) sessionIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.st.sessions))
}

// sessionsOf lists the ids of a user's sessions, sorted.
func (s *memStore) sessionsOf(userID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, sess := range s.st.sessions {
		if sess.UserID == userID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// ---- Password hasher --------------------------------------------------------------

// fakeHasher hashes p to "h:"+p. hashErr and verifyErr make the calls fail; beforeHash
// runs inside Hash, to let a test change the world while the slow hash is running.
type fakeHasher struct {
	mu             sync.Mutex
	hashCalls      int
	verifyCalls    int
	verifiedHashes []string
	hashErr        error
	verifyErr      error
	// beforeHash and afterVerify run outside the lock: they stand for whatever
	// commits concurrently while a real hash takes its time.
	beforeHash  func()
	afterVerify func()
	// hashBlocks makes Hash take until its context ends, as a saturated or slow
	// hasher would.
	hashBlocks bool
}

func (h *fakeHasher) Hash(ctx context.Context, password string) (string, error) {
	h.mu.Lock()
	h.hashCalls++
	hook, err, blocks := h.beforeHash, h.hashErr, h.hashBlocks
	h.mu.Unlock()
	if blocks {
		<-ctx.Done()
		return "", ctx.Err()
	}
	if hook != nil {
		hook()
	}
	if err != nil {
		return "", err
	}
	return hashOf(password), nil
}

func (h *fakeHasher) Verify(_ context.Context, hash, password string) (bool, error) {
	h.mu.Lock()
	h.verifyCalls++
	h.verifiedHashes = append(h.verifiedHashes, hash)
	hook, err := h.afterVerify, h.verifyErr
	h.mu.Unlock()
	if hook != nil {
		hook()
	}
	if err != nil {
		return false, err
	}
	hash = strings.TrimPrefix(hash, oldHashPrefix)
	return hash != "" && hash == hashOf(password), nil
}

// Outdated: a hash the fake made with "older settings" carries the prefix "old:".
func (h *fakeHasher) Same(a, b string) bool { return a == b }

func (h *fakeHasher) Outdated(hash string) bool {
	return strings.HasPrefix(hash, oldHashPrefix)
}

const oldHashPrefix = "old:"

func hashOf(password string) string { return "h:" + password }

// ---- Token codec --------------------------------------------------------------------

type issuedToken struct {
	token               string
	sessionID           string
	issuedAt, expiresAt time.Time
}

// fakeTokens issues opaque tokens and remembers what each one names; a token it did not
// issue is refused like a bad signature.
type fakeTokens struct {
	mu       sync.Mutex
	issued   []issuedToken
	byToken  map[string]string
	issueErr error
}

func newFakeTokens() *fakeTokens { return &fakeTokens{byToken: map[string]string{}} }

func (f *fakeTokens) Issue(sessionID string, issuedAt, expiresAt time.Time) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.issueErr != nil {
		return "", f.issueErr
	}
	tok := fmt.Sprintf("token-%d", len(f.issued)+1)
	f.issued = append(f.issued, issuedToken{token: tok, sessionID: sessionID, issuedAt: issuedAt, expiresAt: expiresAt})
	f.byToken[tok] = sessionID
	return tok, nil
}

func (f *fakeTokens) SessionID(token string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sid, ok := f.byToken[token]
	if !ok {
		return "", fmt.Errorf("token: %w", domain.ErrUnauthenticated)
	}
	return sid, nil
}

// tokenFor returns a token naming sessionID, as a cookie issued earlier would hold.
func (f *fakeTokens) tokenFor(sessionID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	tok := "cookie-" + sessionID
	f.byToken[tok] = sessionID
	return tok
}

func (f *fakeTokens) all() []issuedToken {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.issued)
}

// ---- Throttle, clock, ids ---------------------------------------------------------

type attempt struct{ username, clientAddr string }

type fakeThrottle struct {
	mu     sync.Mutex
	wait   time.Duration
	asked  []attempt
	failed []attempt
	// open counts claims not yet settled: every claim must be settled exactly once.
	open, settledTwice int
}

func (f *fakeThrottle) Begin(ctx context.Context, username, clientAddr string) (time.Duration, func(failed bool), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := attempt{username, clientAddr}
	f.asked = append(f.asked, a)
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	if f.wait > 0 {
		return f.wait, nil, nil
	}
	f.open++
	settled := false
	return 0, func(failed bool) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if settled {
			f.settledTwice++
			return
		}
		settled = true
		f.open--
		if failed {
			f.failed = append(f.failed, a)
		}
	}, nil
}

// spending is one draw on the hashing budget.
type spending struct {
	clientAddr string
	n          int
}

// fakeBudget refuses every draw with wait when wait is set, fails it with err when
// that is set, and grants every one otherwise; asked records them all.
type fakeBudget struct {
	mu    sync.Mutex
	wait  time.Duration
	err   error
	asked []spending
}

func (f *fakeBudget) Spend(_ context.Context, clientAddr string, n int) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, spending{clientAddr, n})
	return f.wait, f.err
}

func (f *fakeBudget) draws() []spending {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asked)
}

// seqIDs hands out user-0001, user-0002… and sess-0001, sess-0002….
type seqIDs struct {
	mu              sync.Mutex
	users, sessions int
	sessionIDErr    error
}

func (s *seqIDs) UserID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users++
	return fmt.Sprintf("user-%04d", s.users)
}

func (s *seqIDs) SessionID() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessionIDErr != nil {
		return "", s.sessionIDErr
	}
	s.sessions++
	return fmt.Sprintf("sess-%04d", s.sessions), nil
}

// ---- The world a test runs in -------------------------------------------------------

var defaultPolicy = domain.SessionPolicy{TTL: 30 * time.Minute, RefreshThreshold: 0.2, MaxLifetime: 12 * time.Hour}

type env struct {
	store    *memStore
	hasher   *fakeHasher
	tokens   *fakeTokens
	throttle *fakeThrottle
	budget   *fakeBudget
	clock    *commandstest.Clock
	ids      *seqIDs
	policy   domain.SessionPolicy
	// sessionCap is the login's cap on sessions per user; none unless a test sets it.
	sessionCap commands.SessionCap
	// eventsSeen is how many committed events assertEvents has checked already.
	eventsSeen int
}

// Seeded accounts. Every password is "<username>-pw". Each active user has two
// sessions, "<id>-s1" and "<id>-s2"; the inactive one has none.
const (
	idRoot     = "sa-root"   // super_admin
	idRoot2    = "sa-second" // super_admin
	idAlice    = "ad-alice"  // admin
	idBob      = "ad-bob"    // admin
	idCarol    = "us-carol"  // user
	idDave     = "us-dave"   // user
	idErin     = "us-erin"   // user, inactive
	idNoSuchID = "no-such-user"
)

type seed struct {
	id, username string
	role         domain.Role
	active       bool
}

var seeds = []seed{
	{idRoot, "root.admin", domain.RoleSuperAdmin, true},
	{idRoot2, "second.root", domain.RoleSuperAdmin, true},
	{idAlice, "alice.admin", domain.RoleAdmin, true},
	{idBob, "bob.admin", domain.RoleAdmin, true},
	{idCarol, "carol.user", domain.RoleUser, true},
	{idDave, "dave.user", domain.RoleUser, true},
	{idErin, "erin.gone", domain.RoleUser, false},
}

func passwordOf(username string) string { return username + "-pw" }

// seededVersion is the version of every seeded user: a few changes after creation.
const seededVersion = 3

// record is the seed as first stored.
func (s seed) record() domain.UserRecord {
	return domain.UserRecord{
		ID: s.id, Username: s.username, PasswordHash: hashOf(passwordOf(s.username)),
		PasswordChangedAt: seededAt, Role: s.role, IsActive: s.active,
		CreatedAt: seededAt, UpdatedAt: seededAt, Version: seededVersion,
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{
		store:    newMemStore(),
		hasher:   &fakeHasher{},
		tokens:   newFakeTokens(),
		throttle: &fakeThrottle{},
		budget:   &fakeBudget{},
		clock:    commandstest.NewClock(t0),
		ids:      &seqIDs{},
		policy:   defaultPolicy,
	}
	for _, s := range seeds {
		e.store.putUser(s.record())
		if s.active {
			for _, n := range []string{"s1", "s2"} {
				e.store.putSession(domain.Session{
					ID: s.id + "-" + n, UserID: s.id, UserVersion: seededVersion, CreatedAt: t0.Add(-time.Minute),
					ExpiresAt: t0.Add(20 * time.Minute), AbsoluteExpiresAt: t0.Add(11 * time.Hour),
				})
			}
		}
	}
	return e
}

// seededActor is the actor authentication makes of seeded user id with session sid.
func seededActor(id, sid string) domain.Actor {
	for _, s := range seeds {
		if s.id == id {
			return domain.Actor{ID: id, Role: s.role, SessionID: sid, Username: s.username, CreatedAt: seededAt, UpdatedAt: seededAt}
		}
	}
	panic("no seed " + id)
}

// actor is the seeded user id logged in with its first session.
func (e *env) actor(t *testing.T, id string) domain.Actor {
	t.Helper()
	u := e.store.user(t, id)
	return domain.Actor{ID: u.ID, Role: u.Role, SessionID: u.ID + "-s1", Username: u.Username}
}

// ---- Assertions -------------------------------------------------------------------

// codeOf is the code a client would see for err: "" for success.
func codeOf(err error) domain.Code {
	if err == nil {
		return ""
	}
	e, ok := domain.AsError(err)
	if !ok {
		return domain.Code("not a domain error: " + err.Error())
	}
	return e.Code
}

func wantCode(t *testing.T, err error, want domain.Code) {
	t.Helper()
	if got := codeOf(err); got != want {
		if want == "" {
			t.Fatalf("got error %v, want success", err)
		}
		t.Fatalf("got %q (%v), want %q", got, err, want)
	}
}

// fieldsOf lists the fields a validation_failed error names.
func fieldsOf(err error) []string {
	e, ok := domain.AsError(err)
	if !ok {
		return nil
	}
	var fields []string
	for _, f := range e.Fields {
		fields = append(fields, f.Field)
	}
	return fields
}

// racer is a user another request committed, named "racer".
func racer(username string, role domain.Role) domain.UserRecord {
	return domain.UserRecord{
		ID: "racer", Username: username, PasswordHash: hashOf("racer's"), PasswordChangedAt: t0,
		Role: role, IsActive: true, CreatedAt: t0, UpdatedAt: t0, Version: 1,
	}
}

// seededUser is a seed as first stored.
func seededUser(t *testing.T, id string) domain.UserRecord {
	t.Helper()
	for _, s := range seeds {
		if s.id == id {
			return s.record()
		}
	}
	t.Fatalf("no seed %s", id)
	return domain.UserRecord{}
}

// assertUserUnchanged fails when a stored user differs from its seeded state.
func (e *env) assertUserUnchanged(t *testing.T, id string) {
	t.Helper()
	if got, want := e.store.user(t, id), seededUser(t, id); got != want {
		t.Fatalf("user %s changed:\n got %+v\nwant %+v", id, got, want)
	}
}

// assertNoUserAdded fails unless the stored users are exactly the seeded ones plus
// extra (added by the test itself), each seeded user unchanged.
func (e *env) assertNoUserAdded(t *testing.T, extra ...string) {
	t.Helper()
	e.assertEvents(t) // nothing committed, nothing to tell
	want := slices.Clone(extra)
	for _, s := range seeds {
		want = append(want, s.id)
		e.assertUserUnchanged(t, s.id)
	}
	slices.Sort(want)
	if got := e.store.userIDs(); !slices.Equal(got, want) {
		t.Fatalf("stored users %v, want %v", got, want)
	}
}

// assertRegistered fails unless username was stored just now as a new, active user
// with id, role and the hash of password; it returns the stored user.
func (e *env) assertRegistered(t *testing.T, id, username, password string, role domain.Role) domain.UserRecord {
	t.Helper()
	u, ok := e.store.userByName(username)
	if !ok {
		t.Fatalf("no user %q stored", username)
	}
	want := domain.UserRecord{
		ID: id, Username: username, PasswordHash: hashOf(password),
		PasswordChangedAt: t0, Role: role, IsActive: true, CreatedAt: t0, UpdatedAt: t0, Version: 1,
	}
	if u != want {
		t.Errorf("stored %+v, want %+v", u, want)
	}
	return u
}

// assertSessions fails unless the stored sessions of userID are exactly want.
func (e *env) assertSessions(t *testing.T, userID string, want ...string) {
	t.Helper()
	got := e.store.sessionsOf(userID)
	if len(want) == 0 && len(got) == 0 {
		return
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("sessions of %s = %v, want %v", userID, got, want)
	}
}

// assertOtherSessionsIntact fails if any session of a user other than except is gone.
func (e *env) assertOtherSessionsIntact(t *testing.T, except string) {
	t.Helper()
	for _, s := range seeds {
		if s.id == except || !s.active {
			continue
		}
		e.assertSessions(t, s.id, s.id+"-s1", s.id+"-s2")
	}
}

// assertEvents fails unless the events committed since the last call are exactly
// want, in order; it takes them, so that each test step checks its own.
func (e *env) assertEvents(t *testing.T, want ...domain.Event) {
	t.Helper()
	all := e.store.events()
	got := all[e.eventsSeen:]
	e.eventsSeen = len(all)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events committed =\n %+v\nwant\n %+v", got, want)
	}
}

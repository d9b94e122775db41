package domain

import "time"

// Session is one login. The cookie only names it; this row decides whether it still
// works. ExpiresAt slides forward with use but never past AbsoluteExpiresAt.
type Session struct {
	ID     string
	UserID string
	// UserVersion is the user's version when the session began: a session from
	// before the user's last inactivation never works again (User.Accepts).
	UserVersion       int64
	CreatedAt         time.Time
	ExpiresAt         time.Time
	AbsoluteExpiresAt time.Time
}

// SessionPolicy is how long sessions live.
type SessionPolicy struct {
	// TTL is the idle timeout: a session unused this long ends.
	TTL time.Duration
	// RefreshThreshold is the fraction of TTL left below which a request extends the
	// session, so that not every request writes to the database.
	RefreshThreshold float64
	// MaxLifetime bounds a session however busy it is.
	MaxLifetime time.Duration
}

// NewSession starts a session of user u at now.
func (p SessionPolicy) NewSession(id string, u *User, now time.Time) *Session {
	now = now.UTC()
	s := &Session{ID: id, UserID: u.ID(), UserVersion: u.Version(), CreatedAt: now, AbsoluteExpiresAt: now.Add(p.MaxLifetime)}
	s.ExpiresAt = p.capped(s, now.Add(p.TTL))
	return s
}

// Expired reports whether the session no longer works at now.
func (s *Session) Expired(now time.Time) bool {
	return !now.Before(s.ExpiresAt)
}

// Refresh extends the session to now+TTL (capped by its absolute lifetime) when less
// than the refresh threshold of the TTL is left, and reports whether it did.
func (p SessionPolicy) Refresh(s *Session, now time.Time) bool {
	left := s.ExpiresAt.Sub(now)
	if float64(left) >= p.RefreshThreshold*float64(p.TTL) {
		return false
	}
	next := p.capped(s, now.UTC().Add(p.TTL))
	if !next.After(s.ExpiresAt) {
		return false
	}
	s.ExpiresAt = next
	return true
}

func (p SessionPolicy) capped(s *Session, t time.Time) time.Time {
	if t.After(s.AbsoluteExpiresAt) {
		return s.AbsoluteExpiresAt
	}
	return t
}

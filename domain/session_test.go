package domain_test

import (
	"testing"
	"time"

	"github.com/example/accounts/domain"
)

// The defaults of the contract: 30m idle, refresh below 20% (6m) left, 12h absolute.
var defaultPolicy = domain.SessionPolicy{TTL: 30 * time.Minute, RefreshThreshold: 0.2, MaxLifetime: 12 * time.Hour}

// sessionUser is a user at version 3: a new session remembers it.
var sessionUser = domain.RestoreUser(domain.UserRecord{ID: "uid", Role: domain.RoleUser, IsActive: true, Version: 3})

func TestNewSession(t *testing.T) {
	s := defaultPolicy.NewSession("sid", sessionUser, created.In(tokyo))
	want := domain.Session{
		ID:                "sid",
		UserID:            "uid",
		UserVersion:       3,
		CreatedAt:         created,
		ExpiresAt:         created.Add(30 * time.Minute),
		AbsoluteExpiresAt: created.Add(12 * time.Hour),
	}
	if *s != want {
		t.Fatalf("NewSession = %+v, want %+v", *s, want)
	}
}

func TestNewSessionCapsAtAbsoluteLifetime(t *testing.T) {
	p := domain.SessionPolicy{TTL: time.Hour, RefreshThreshold: 0.2, MaxLifetime: 10 * time.Minute}
	s := p.NewSession("sid", sessionUser, created)
	if want := created.Add(10 * time.Minute); !s.ExpiresAt.Equal(want) || !s.AbsoluteExpiresAt.Equal(want) {
		t.Fatalf("ExpiresAt %v, AbsoluteExpiresAt %v; want both %v", s.ExpiresAt, s.AbsoluteExpiresAt, want)
	}
}

func TestSessionRefresh(t *testing.T) {
	const ttl = 30 * time.Minute
	abs := created.Add(12 * time.Hour)
	tests := []struct {
		name        string
		expiresAt   time.Time
		absolute    time.Time
		now         time.Time
		wantChanged bool
		wantExpires time.Time
	}{
		{
			name:      "fresh session is left alone",
			expiresAt: created.Add(ttl), absolute: abs, now: created,
			wantChanged: false, wantExpires: created.Add(ttl),
		},
		{
			name:      "well above the threshold",
			expiresAt: created.Add(ttl), absolute: abs, now: created.Add(20 * time.Minute),
			wantChanged: false, wantExpires: created.Add(ttl),
		},
		{
			name:      "exactly at the threshold is not below it",
			expiresAt: created.Add(ttl), absolute: abs, now: created.Add(24 * time.Minute),
			wantChanged: false, wantExpires: created.Add(ttl),
		},
		{
			name:      "just below the threshold",
			expiresAt: created.Add(ttl), absolute: abs, now: created.Add(24*time.Minute + time.Nanosecond),
			wantChanged: true, wantExpires: created.Add(24*time.Minute + time.Nanosecond + ttl),
		},
		{
			name:      "one minute left",
			expiresAt: created.Add(ttl), absolute: abs, now: created.Add(29 * time.Minute),
			wantChanged: true, wantExpires: created.Add(29*time.Minute + ttl),
		},
		{
			name:      "extension capped at the absolute lifetime",
			expiresAt: abs.Add(-5 * time.Minute), absolute: abs.Add(5 * time.Minute), now: abs.Add(-6 * time.Minute),
			wantChanged: true, wantExpires: abs.Add(5 * time.Minute),
		},
		{
			name:      "already at the absolute lifetime",
			expiresAt: abs, absolute: abs, now: abs.Add(-time.Minute),
			wantChanged: false, wantExpires: abs,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &domain.Session{ID: "sid", UserID: "uid", CreatedAt: created, ExpiresAt: tc.expiresAt, AbsoluteExpiresAt: tc.absolute}
			changed := defaultPolicy.Refresh(s, tc.now)
			if changed != tc.wantChanged {
				t.Errorf("Refresh changed = %v, want %v", changed, tc.wantChanged)
			}
			if !s.ExpiresAt.Equal(tc.wantExpires) {
				t.Errorf("ExpiresAt = %v, want %v", s.ExpiresAt, tc.wantExpires)
			}
			if s.ExpiresAt.After(s.AbsoluteExpiresAt) {
				t.Errorf("ExpiresAt %v is past AbsoluteExpiresAt %v", s.ExpiresAt, s.AbsoluteExpiresAt)
			}
		})
	}
}

// A session used every few minutes slides forward but ends at its absolute lifetime.
func TestSessionRefreshNeverPassesAbsoluteLifetime(t *testing.T) {
	s := defaultPolicy.NewSession("sid", sessionUser, created)
	now := created
	refreshes := 0
	for !s.Expired(now) {
		if defaultPolicy.Refresh(s, now) {
			refreshes++
		}
		if s.ExpiresAt.After(s.AbsoluteExpiresAt) {
			t.Fatalf("at %v ExpiresAt %v is past AbsoluteExpiresAt %v", now, s.ExpiresAt, s.AbsoluteExpiresAt)
		}
		now = now.Add(5 * time.Minute)
	}
	if !s.ExpiresAt.Equal(s.AbsoluteExpiresAt) {
		t.Errorf("a busy session ended at %v, want its absolute expiry %v", s.ExpiresAt, s.AbsoluteExpiresAt)
	}
	if refreshes == 0 {
		t.Error("the session was never refreshed")
	}
}

func TestSessionExpired(t *testing.T) {
	s := &domain.Session{ExpiresAt: created}
	tests := []struct {
		now  time.Time
		want bool
	}{
		{created.Add(-time.Nanosecond), false},
		{created, true},
		{created.In(tokyo), true},
		{created.Add(time.Nanosecond), true},
	}
	for _, tc := range tests {
		if got := s.Expired(tc.now); got != tc.want {
			t.Errorf("Expired(%v) = %v, want %v", tc.now, got, tc.want)
		}
	}
}

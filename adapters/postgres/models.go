package postgres

import (
	"time"

	"github.com/uptrace/bun"

	"github.com/example/accounts/domain"
)

// userRow is a row of users. The domain types carry no database tags: these rows
// are the only place that knows the column names.
type userRow struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID                string      `bun:"id,pk"`
	Username          string      `bun:"username"`
	PasswordHash      string      `bun:"password_hash"`
	PasswordChangedAt time.Time   `bun:"password_changed_at"`
	Role              domain.Role `bun:"role"`
	IsActive          bool        `bun:"is_active"`
	CreatedAt         time.Time   `bun:"created_at"`
	UpdatedAt         time.Time   `bun:"updated_at"`
	Version           int64       `bun:"version"`
	SessionsValidFrom int64       `bun:"sessions_valid_from"`
}

func newUserRow(u *domain.User) *userRow {
	r := u.Record()
	return &userRow{
		ID:                r.ID,
		Username:          r.Username,
		PasswordHash:      r.PasswordHash,
		PasswordChangedAt: r.PasswordChangedAt.UTC(),
		Role:              r.Role,
		IsActive:          r.IsActive,
		CreatedAt:         r.CreatedAt.UTC(),
		UpdatedAt:         r.UpdatedAt.UTC(),
		Version:           r.Version,
		SessionsValidFrom: r.SessionsValidFrom,
	}
}

// toDomain returns the user with UTC timestamps: the driver hands them back in the
// process's local time zone.
func (r *userRow) toDomain() *domain.User {
	return domain.RestoreUser(domain.UserRecord{
		ID:                r.ID,
		Username:          r.Username,
		PasswordHash:      r.PasswordHash,
		PasswordChangedAt: r.PasswordChangedAt.UTC(),
		Role:              r.Role,
		IsActive:          r.IsActive,
		CreatedAt:         r.CreatedAt.UTC(),
		UpdatedAt:         r.UpdatedAt.UTC(),
		Version:           r.Version,
		SessionsValidFrom: r.SessionsValidFrom,
	})
}

// sessionRow is a row of sessions.
type sessionRow struct {
	bun.BaseModel `bun:"table:sessions,alias:s"`

	ID                string    `bun:"id,pk"`
	UserID            string    `bun:"user_id"`
	UserVersion       int64     `bun:"user_version"`
	CreatedAt         time.Time `bun:"created_at"`
	ExpiresAt         time.Time `bun:"expires_at"`
	AbsoluteExpiresAt time.Time `bun:"absolute_expires_at"`
}

func newSessionRow(s *domain.Session) *sessionRow {
	return &sessionRow{
		ID:                s.ID,
		UserID:            s.UserID,
		UserVersion:       s.UserVersion,
		CreatedAt:         s.CreatedAt.UTC(),
		ExpiresAt:         s.ExpiresAt.UTC(),
		AbsoluteExpiresAt: s.AbsoluteExpiresAt.UTC(),
	}
}

func (r *sessionRow) toDomain() *domain.Session {
	return &domain.Session{
		ID:                r.ID,
		UserID:            r.UserID,
		UserVersion:       r.UserVersion,
		CreatedAt:         r.CreatedAt.UTC(),
		ExpiresAt:         r.ExpiresAt.UTC(),
		AbsoluteExpiresAt: r.AbsoluteExpiresAt.UTC(),
	}
}

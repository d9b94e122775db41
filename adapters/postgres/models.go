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
}

func newUserRow(u *domain.User) *userRow {
	return &userRow{
		ID:                u.ID,
		Username:          u.Username,
		PasswordHash:      u.PasswordHash,
		PasswordChangedAt: u.PasswordChangedAt.UTC(),
		Role:              u.Role,
		IsActive:          u.IsActive,
		CreatedAt:         u.CreatedAt.UTC(),
		UpdatedAt:         u.UpdatedAt.UTC(),
	}
}

// toDomain returns the user with UTC timestamps: the driver hands them back in the
// process's local time zone.
func (r *userRow) toDomain() *domain.User {
	return &domain.User{
		ID:                r.ID,
		Username:          r.Username,
		PasswordHash:      r.PasswordHash,
		PasswordChangedAt: r.PasswordChangedAt.UTC(),
		Role:              r.Role,
		IsActive:          r.IsActive,
		CreatedAt:         r.CreatedAt.UTC(),
		UpdatedAt:         r.UpdatedAt.UTC(),
	}
}

// sessionRow is a row of sessions; User is filled only by queries that join it.
type sessionRow struct {
	bun.BaseModel `bun:"table:sessions,alias:s"`

	ID                string    `bun:"id,pk"`
	UserID            string    `bun:"user_id"`
	CreatedAt         time.Time `bun:"created_at"`
	ExpiresAt         time.Time `bun:"expires_at"`
	AbsoluteExpiresAt time.Time `bun:"absolute_expires_at"`

	User *userRow `bun:"rel:belongs-to,join:user_id=id"`
}

func newSessionRow(s *domain.Session) *sessionRow {
	return &sessionRow{
		ID:                s.ID,
		UserID:            s.UserID,
		CreatedAt:         s.CreatedAt.UTC(),
		ExpiresAt:         s.ExpiresAt.UTC(),
		AbsoluteExpiresAt: s.AbsoluteExpiresAt.UTC(),
	}
}

func (r *sessionRow) toDomain() *domain.Session {
	return &domain.Session{
		ID:                r.ID,
		UserID:            r.UserID,
		CreatedAt:         r.CreatedAt.UTC(),
		ExpiresAt:         r.ExpiresAt.UTC(),
		AbsoluteExpiresAt: r.AbsoluteExpiresAt.UTC(),
	}
}

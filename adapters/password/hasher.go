package password

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

var _ commands.PasswordHasher = (*Hasher)(nil)

// nfcPrefix marks a stored hash made from the password's Unicode NFC form: the
// prefix followed by a bcrypt hash, such as "$nfc$2a$11$…". A bcrypt hash always
// starts with "$2", so no hash of the earlier format, a bare bcrypt hash of the raw
// password, can be mistaken for one.
const nfcPrefix = "$nfc"

// MinPepperLength is the shortest pepper accepted: 256 bits, the same strength as the
// HMAC output it keys.
const MinPepperLength = 32

// Config says how passwords are hashed and how much hashing may run at once.
type Config struct {
	// Pepper keys the HMAC pre-hash. Changing it invalidates every stored hash.
	Pepper []byte
	// Cost is bcrypt's work factor. Raising it by one doubles the time of every login;
	// hashes made at an older cost still verify, and Outdated tells them apart so
	// that a login can renew them.
	Cost int
	// Concurrency is how many hashes may run at once, typically the number of CPUs.
	Concurrency int
	// Wait is how long a caller may wait for a free slot before giving up with 503.
	Wait time.Duration
}

// Validate reports every problem with the configuration, one per line, so that an
// operator can fix them all at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Pepper) < MinPepperLength {
		errs = append(errs, fmt.Errorf("password pepper must be at least %d bytes, got %d", MinPepperLength, len(c.Pepper)))
	}
	if c.Cost < bcrypt.MinCost || c.Cost > bcrypt.MaxCost {
		errs = append(errs, fmt.Errorf("bcrypt cost must be between %d and %d, got %d", bcrypt.MinCost, bcrypt.MaxCost, c.Cost))
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("hash concurrency must be at least 1, got %d", c.Concurrency))
	}
	if c.Wait <= 0 {
		errs = append(errs, fmt.Errorf("hash wait must be positive, got %s", c.Wait))
	}
	return errors.Join(errs...)
}

// Hasher implements commands.PasswordHasher. It is safe for concurrent use.
type Hasher struct {
	pepper []byte
	cost   int
	wait   time.Duration
	// slots holds one value per hash in progress; its capacity is the concurrency.
	slots chan struct{}
	// dummy is what an empty or malformed stored hash is compared against, so that a
	// login for an unknown user costs a full bcrypt run like a wrong password does.
	dummy []byte
	// compare is bcrypt.CompareHashAndPassword; a test watches which hashes it gets.
	compare func(hash, password []byte) error

	// What Stats reports.
	runs, waits, saturated atomic.Uint64
	waited                 atomic.Int64 // nanoseconds
}

// Stats is what the hasher has done since it was made, for the operators' metrics.
type Stats struct {
	Slots  int // how many hashes may run at once
	InUse  int // how many run now
	Runs   uint64
	Waits  uint64 // runs that had to wait for a slot, including those refused
	Waited time.Duration
	// Saturated counts the runs refused (503) after waiting the whole hash wait.
	Saturated uint64
}

// Stats reports the hasher's slots and what it has done.
func (h *Hasher) Stats() Stats {
	return Stats{
		Slots:     cap(h.slots),
		InUse:     len(h.slots),
		Runs:      h.runs.Load(),
		Waits:     h.waits.Load(),
		Waited:    time.Duration(h.waited.Load()),
		Saturated: h.saturated.Load(),
	}
}

// NewHasher checks cfg and prepares a Hasher. It runs one bcrypt hash at cfg.Cost to
// make the dummy hash, so it takes as long as a login.
func NewHasher(cfg Config) (*Hasher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Hasher{
		pepper:  bytes.Clone(cfg.Pepper),
		cost:    cfg.Cost,
		wait:    cfg.Wait,
		slots:   make(chan struct{}, cfg.Concurrency),
		compare: bcrypt.CompareHashAndPassword,
	}
	dummy, err := bcrypt.GenerateFromPassword(h.prehash("no user has this password"), cfg.Cost)
	if err != nil {
		return nil, fmt.Errorf("password: make dummy hash: %w", err)
	}
	h.dummy = dummy
	return h, nil
}

// Hash returns the hash to be stored as is: nfcPrefix and the bcrypt hash of the
// pre-hash of the password's NFC form (see the package documentation).
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	pre := h.prehash(norm.NFC.String(password))
	var (
		hash []byte
		err  error
	)
	if err := h.run(ctx, func() { hash, err = bcrypt.GenerateFromPassword(pre, h.cost) }); err != nil {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("password: hash: %w", err)
	}
	return nfcPrefix + string(hash), nil
}

// Verify reports whether password matches the stored hash, comparing in constant
// time. Hashes of the earlier format were made from the password as typed, so they
// are compared with it unnormalised; Outdated has the login replace them. A hash
// bcrypt cannot parse (empty for an unknown user, or damaged) fails before the
// expensive part, so a comparison with the dummy hash spends that time anyway; the
// answer is then false whatever the dummy comparison says.
func (h *Hasher) Verify(ctx context.Context, stored, password string) (bool, error) {
	hash, pre := h.toCompare(stored, password)
	var match bool
	err := h.run(ctx, func() {
		err := h.compare(hash, pre)
		switch {
		case err == nil:
			match = true
		case !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			_ = h.compare(h.dummy, pre)
		}
	})
	if err != nil {
		return false, err // match may still be written by the work running on
	}
	return match, nil
}

// toCompare splits a stored hash into its bcrypt hash and the pre-hash of the
// password in the form that format was made from. The password is normalised
// whatever the format, so that neither the format nor an unknown user's empty hash
// shows in the time taken.
func (h *Hasher) toCompare(stored, password string) (hash, pre []byte) {
	normalised := norm.NFC.String(password)
	if rest, ok := strings.CutPrefix(stored, nfcPrefix); ok {
		return []byte(rest), h.prehash(normalised)
	}
	return []byte(stored), h.prehash(password)
}

// run does work, one bcrypt run's worth of CPU, in a hashing slot. It returns when
// the work is done or when ctx ends, whichever comes first: a request out of time
// gets its answer at once. Work cut short this way still finishes in the
// background, holding its slot until then, so the bound on concurrent hashing
// holds all the same.
func (h *Hasher) run(ctx context.Context, work func()) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer h.release() // before done closes: whoever sees done sees the slot free
		work()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Same reports whether a and b are one password: their NFC forms are equal, as
// Verify compares them.
func (h *Hasher) Same(a, b string) bool {
	return norm.NFC.String(a) == norm.NFC.String(b)
}

// Outdated reports whether a stored hash is one the login should renew: one of the
// earlier format, made from the password unnormalised, or a bcrypt hash of another
// cost than the configured one. Anything bcrypt cannot read is not renewed: it
// never verifies.
func (h *Hasher) Outdated(stored string) bool {
	hash, normalised := strings.CutPrefix(stored, nfcPrefix)
	cost, err := bcrypt.Cost([]byte(hash))
	return err == nil && (!normalised || cost != h.cost)
}

// prehash maps a password of any length to 64 ASCII bytes, within bcrypt's 72.
func (h *Hasher) prehash(password string) []byte {
	mac := hmac.New(sha512.New384, h.pepper)
	_, _ = io.WriteString(mac, password) // a hash.Hash never fails to write
	return base64.StdEncoding.AppendEncode(nil, mac.Sum(nil))
}

// acquire takes a hashing slot. It gives up after h.wait with 503, or earlier when the
// request ends, rather than letting callers pile up behind a saturated CPU.
func (h *Hasher) acquire(ctx context.Context) error {
	// Checked first because select picks at random among ready cases, and a request
	// that has already ended must not start a hash.
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.slots <- struct{}{}:
		h.runs.Add(1)
		return nil
	default:
	}
	h.waits.Add(1)
	start := time.Now()
	defer func() { h.waited.Add(int64(time.Since(start))) }()
	timer := time.NewTimer(h.wait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		h.runs.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		h.saturated.Add(1)
		return domain.Unavailable("Password hashing is saturated; try again shortly.", time.Second)
	}
}

func (h *Hasher) release() {
	<-h.slots
}

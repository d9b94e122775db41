package password

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/example/accounts/domain"
)

func newOneSlotHasher(t *testing.T, wait time.Duration) *Hasher {
	t.Helper()
	h, err := NewHasher(Config{Pepper: bytes.Repeat([]byte("p"), MinPepperLength), Cost: bcrypt.MinCost, Concurrency: 1, Wait: wait})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSaturatedHasherAnswersUnavailable(t *testing.T) {
	h := newOneSlotHasher(t, 20*time.Millisecond)
	h.slots <- struct{}{} // a hash in progress

	_, err := h.Hash(t.Context(), "correct horse")
	if !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("Hash: err = %v, want ErrUnavailable", err)
	}
	if e, _ := domain.AsError(err); e.RetryAfter != time.Second {
		t.Errorf("RetryAfter = %s, want 1s", e.RetryAfter)
	}
	if _, err := h.Verify(t.Context(), "", "correct horse"); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("Verify: err = %v, want ErrUnavailable", err)
	}

	h.release()
	if _, err := h.Hash(t.Context(), "correct horse"); err != nil {
		t.Errorf("Hash once the slot is free: %v", err)
	}
}

func TestRequestDeadlineShorterThanWaitWins(t *testing.T) {
	h := newOneSlotHasher(t, time.Hour)
	h.slots <- struct{}{}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()

	if _, err := h.Hash(ctx, "correct horse"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash: err = %v, want context.DeadlineExceeded", err)
	}
}

func TestEveryPathGivesItsSlotBack(t *testing.T) {
	h := newOneSlotHasher(t, time.Second)
	hash, err := h.Hash(t.Context(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	for _, stored := range []string{hash, "", "damaged"} {
		for _, pw := range []string{"correct horse", "wrong horse"} {
			if _, err := h.Verify(t.Context(), stored, pw); err != nil {
				t.Fatalf("Verify(%q, %q): %v", stored, pw, err)
			}
		}
	}
	if n := len(h.slots); n != 0 {
		t.Errorf("%d slots still taken", n)
	}
}

// An unknown user must cost what a wrong password costs: one full bcrypt comparison
// at the configured work factor. The comparisons are counted rather than timed, so
// the test cannot flake on a busy machine; BenchmarkVerify prints the times.
func TestUnknownUserCostsOneFullComparison(t *testing.T) {
	h := newOneSlotHasher(t, time.Second)
	if cost, err := bcrypt.Cost(h.dummy); err != nil || cost != h.cost {
		t.Fatalf("dummy cost = %d, %v; want %d", cost, err, h.cost)
	}
	var full [][]byte // hashes bcrypt really ran on (it rejects bad ones up front)
	h.compare = func(hash, pw []byte) error {
		if _, err := bcrypt.Cost(hash); err == nil {
			full = append(full, hash)
		}
		return bcrypt.CompareHashAndPassword(hash, pw)
	}
	stored, err := h.Hash(t.Context(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}

	earlier, err := bcrypt.GenerateFromPassword(h.prehash("correct horse"), h.cost)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ name, hash, want string }{
		{"wrong password", stored, strings.TrimPrefix(stored, nfcPrefix)},
		{"wrong password, earlier format", string(earlier), string(earlier)},
		{"unknown user", "", string(h.dummy)},
		{"damaged hash", "$2a$04$not-a-hash", string(h.dummy)},
		{"damaged hash after the prefix", nfcPrefix + "$2a$04$not-a-hash", string(h.dummy)},
	} {
		full = nil
		ok, err := h.Verify(t.Context(), tc.hash, "wrong horse")
		if ok || err != nil {
			t.Errorf("%s: Verify = %v, %v", tc.name, ok, err)
		}
		if len(full) != 1 || string(full[0]) != tc.want {
			t.Errorf("%s: full comparisons against %q, want one against %q", tc.name, full, tc.want)
		}
	}
}

// A hash is outdated when it is of the earlier format, made from the password
// unnormalised, or of another cost; a hash of the current format and cost, or
// anything that is not a bcrypt hash (it never verifies anyway), is not.
func TestOutdated(t *testing.T) {
	h := newOneSlotHasher(t, time.Second)
	current, err := h.Hash(t.Context(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	bcryptOf := func(cost int) string {
		hash, err := bcrypt.GenerateFromPassword(h.prehash("correct horse"), cost)
		if err != nil {
			t.Fatal(err)
		}
		return string(hash)
	}
	earlier, earlierCostlier := bcryptOf(h.cost), bcryptOf(h.cost+1)
	costlier := nfcPrefix + earlierCostlier

	for _, tc := range []struct {
		name, hash string
		want       bool
	}{
		{"current", current, false},
		{"another cost", costlier, true},
		{"earlier format", earlier, true},
		{"earlier format, another cost", earlierCostlier, true},
		{"empty", "", false},
		{"not a hash", "not a hash", false},
		{"prefix only", nfcPrefix, false},
		{"prefix and no bcrypt", nfcPrefix + "not a hash", false},
		{"prefix twice", nfcPrefix + current, false},
	} {
		if got := h.Outdated(tc.hash); got != tc.want {
			t.Errorf("%s: Outdated(%.16q…) = %v, want %v", tc.name, tc.hash, got, tc.want)
		}
	}
	for _, hash := range []string{costlier, earlier, earlierCostlier} {
		if ok, err := h.Verify(t.Context(), hash, "correct horse"); !ok || err != nil {
			t.Errorf("an outdated hash must still verify: Verify(%.16q…) = %v, %v", hash, ok, err)
		}
	}
}

// A request whose deadline passes while bcrypt runs gets its context's error rather
// than waiting the hash out, and the cut-short hash keeps its slot until it is done,
// so the bound on concurrent hashing holds. Cost 11 makes each hash last far longer
// than the 5 ms deadlines.
func TestDeadlineDuringTheHashWins(t *testing.T) {
	h, err := NewHasher(Config{Pepper: bytes.Repeat([]byte("p"), MinPepperLength), Cost: 11, Concurrency: 1, Wait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	deadline := func() context.Context {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}

	if _, err := h.Hash(deadline(), "correct horse"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash: err = %v, want context.DeadlineExceeded", err)
	}
	if _, err := h.Hash(t.Context(), "correct horse"); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("Hash while the cut-short one runs on: err = %v, want its slot still taken", err)
	}
	waitForFreeSlots(t, h)

	if _, err := h.Verify(deadline(), string(h.dummy), "correct horse"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Verify: err = %v, want context.DeadlineExceeded", err)
	}
	waitForFreeSlots(t, h)
}

func waitForFreeSlots(t *testing.T, h *Hasher) {
	t.Helper()
	for end := time.Now().Add(time.Minute); len(h.slots) > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("a cut-short hash never gave its slot back")
		}
	}
}

// Stats is what the hashing metrics read: slots in use, waits and refusals.
func TestStatsCountWaitsAndRefusals(t *testing.T) {
	h := newOneSlotHasher(t, 20*time.Millisecond)
	if _, err := h.Hash(t.Context(), "correct horse"); err != nil {
		t.Fatal(err)
	}
	h.slots <- struct{}{} // a hash in progress
	if got := h.Stats(); got.Slots != 1 || got.InUse != 1 || got.Runs != 1 || got.Waits != 0 || got.Saturated != 0 {
		t.Fatalf("Stats after one free run = %+v, want 1 slot in use, 1 run, no waits", got)
	}
	if _, err := h.Hash(t.Context(), "correct horse"); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("Hash: err = %v, want ErrUnavailable", err)
	}
	got := h.Stats()
	if got.Runs != 1 || got.Waits != 1 || got.Saturated != 1 || got.Waited < 20*time.Millisecond {
		t.Fatalf("Stats after a refusal = %+v, want 1 run, 1 wait of at least 20ms, 1 refusal", got)
	}

	// A wait that ends in a slot is a wait, not a refusal.
	go func() { time.Sleep(5 * time.Millisecond); h.release() }()
	h.wait = time.Minute
	if _, err := h.Hash(t.Context(), "correct horse"); err != nil {
		t.Fatal(err)
	}
	if got := h.Stats(); got.Runs != 2 || got.Waits != 2 || got.Saturated != 1 || got.InUse != 0 {
		t.Errorf("Stats after a wait = %+v, want 2 runs, 2 waits, 1 refusal, no slot in use", got)
	}
}

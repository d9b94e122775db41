package metrics

import (
	"testing"
	"time"
)

// BenchmarkAuthenticatedRequest is what metrics add to one authenticated request:
// its HTTP request and its two bus operations (authenticate, then the use case).
func BenchmarkAuthenticatedRequest(b *testing.B) {
	m := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Handled("commands.Authenticate", "ok", 200*time.Microsecond)
			m.Handled("queries.Me", "ok", 100*time.Microsecond)
			m.ObserveRequest("/api/v1/account/me", "GET", 200, 400*time.Microsecond)
		}
	})
}

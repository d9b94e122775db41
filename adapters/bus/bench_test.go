package bus

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/example/accounts/domain"
)

// BenchmarkRoundTrips measures what the bus costs a request as the number of
// requests in flight grows: a round trip's price must not depend on how many others
// are waiting. Each sub-benchmark reports round trips per second and the process's
// CPU time per round trip (user and system, every goroutine included: the bus's
// own, the handler's and the garbage collector's).
func BenchmarkRoundTrips(b *testing.B) {
	for _, senders := range []int{1, 16, 128, 1024} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) {
			benchmarkRoundTrips(b, senders)
		})
	}
}

func benchmarkRoundTrips(b *testing.B, senders int) {
	// A generous ReplyTimeout: a slow bus should show up as a low rate, not as
	// errors that end the benchmark.
	bus := startBus(b, Config{ReplyTimeout: time.Minute}, zap.NewNop(), on(double))
	send := NewSender[Double, Doubled](bus)
	base := domain.WithCorrelationID(b.Context(), "bench")

	var (
		left  atomic.Int64
		wg    sync.WaitGroup
		begin = make(chan struct{})
	)
	left.Store(int64(b.N))
	for range senders {
		wg.Go(func() {
			// A context of its own, as every HTTP request has: one parent shared by
			// a thousand senders would measure the contention on its lock, which
			// every Send takes to register its deadline, rather than the bus.
			ctx, cancel := context.WithCancel(base)
			defer cancel()
			<-begin
			for left.Add(-1) >= 0 {
				got, err := send.Send(ctx, Double{N: 21})
				if err != nil || got.N != 42 {
					b.Errorf("Send = %+v, %v", got, err)
					return
				}
			}
		})
	}

	b.ReportAllocs()
	b.ResetTimer()
	cpuBefore, haveCPU := processCPU()
	start := time.Now()
	close(begin)
	wg.Wait()
	elapsed := time.Since(start)
	cpuAfter, _ := processCPU()
	b.StopTimer()

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rt/s")
	if haveCPU {
		b.ReportMetric(float64((cpuAfter-cpuBefore).Nanoseconds())/1e3/float64(b.N), "cpu-µs/rt")
	}
}

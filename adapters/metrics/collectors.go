package metrics

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/example/accounts/adapters/outbox"
	"github.com/example/accounts/adapters/password"
)

// HasherCollector reads the password hasher's slots and counters on each scrape.
func HasherCollector(stats func() password.Stats) prometheus.Collector {
	return hasherCollector{stats: stats}
}

var (
	hashSlots = prometheus.NewDesc(namespace+"_password_hash_slots",
		"Password hashes that may run at once (security.hash_concurrency).", nil, nil)
	hashSlotsInUse = prometheus.NewDesc(namespace+"_password_hash_slots_in_use",
		"Password hashes running now; at hash_slots, requests wait for a slot.", nil, nil)
	hashRuns = prometheus.NewDesc(namespace+"_password_hashes_total",
		"Password hashes and comparisons run (signup, login, password changes).", nil, nil)
	hashWaits = prometheus.NewDesc(namespace+"_password_hash_waits_total",
		"Hashes that found every slot busy and waited, refused ones included.", nil, nil)
	hashWaited = prometheus.NewDesc(namespace+"_password_hash_wait_seconds_total",
		"Time spent waiting for a hashing slot.", nil, nil)
	hashSaturated = prometheus.NewDesc(namespace+"_password_hash_saturated_total",
		"Requests answered 503 because no hashing slot freed up within security.hash_wait.", nil, nil)
)

type hasherCollector struct{ stats func() password.Stats }

func (c hasherCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{hashSlots, hashSlotsInUse, hashRuns, hashWaits, hashWaited, hashSaturated} {
		ch <- d
	}
}

func (c hasherCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(hashSlots, prometheus.GaugeValue, float64(s.Slots))
	ch <- prometheus.MustNewConstMetric(hashSlotsInUse, prometheus.GaugeValue, float64(s.InUse))
	ch <- prometheus.MustNewConstMetric(hashRuns, prometheus.CounterValue, float64(s.Runs))
	ch <- prometheus.MustNewConstMetric(hashWaits, prometheus.CounterValue, float64(s.Waits))
	ch <- prometheus.MustNewConstMetric(hashWaited, prometheus.CounterValue, s.Waited.Seconds())
	ch <- prometheus.MustNewConstMetric(hashSaturated, prometheus.CounterValue, float64(s.Saturated))
}

// Outbox is what OutboxCollector reads: the consumer groups and how far behind
// each is (*outbox.Router).
type Outbox interface {
	Groups() map[string]string
	Lag(ctx context.Context, group string) (outbox.Lag, error)
	Parked(ctx context.Context) (map[string]int, error)
}

// OutboxCollector measures each consumer group's lag and the events it has parked
// on each scrape, with one query per group and one for the poison table, all
// bounded by timeout. The outbox is shared by every instance, so
// each reports the same figures: alert on their max.
func OutboxCollector(o Outbox, timeout time.Duration) prometheus.Collector {
	return outboxCollector{outbox: o, timeout: timeout}
}

var (
	outboxLag = prometheus.NewDesc(namespace+"_outbox_lag_seconds",
		"Age of the oldest event a consumer group has yet to deliver; 0 when it is caught up.",
		[]string{"consumer_group", "broker"}, nil)
	outboxPending = prometheus.NewDesc(namespace+"_outbox_pending_events",
		"Events a consumer group has yet to deliver.",
		[]string{"consumer_group", "broker"}, nil)
	outboxParked = prometheus.NewDesc(namespace+"_outbox_parked_events",
		"Events a consumer group parked that wait in the poison table, until replayed (events replay).",
		[]string{"consumer_group", "broker"}, nil)
)

type outboxCollector struct {
	outbox  Outbox
	timeout time.Duration
}

func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxLag
	ch <- outboxPending
	ch <- outboxParked
}

// Collect reports a group it cannot measure as an invalid metric: the scrape
// still serves every other metric, and the scrape's error names the cause.
func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	groups := c.outbox.Groups()
	parked, parkedErr := c.outbox.Parked(ctx)
	if parkedErr != nil {
		ch <- prometheus.NewInvalidMetric(outboxParked, parkedErr)
	}
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		b := brokerLabel(groups[g])
		if parkedErr == nil {
			ch <- prometheus.MustNewConstMetric(outboxParked, prometheus.GaugeValue, float64(parked[g]), g, b)
		}
		lag, err := c.outbox.Lag(ctx, g)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(outboxLag, err)
			continue
		}
		ch <- prometheus.MustNewConstMetric(outboxLag, prometheus.GaugeValue, lag.OldestAge.Seconds(), g, b)
		ch <- prometheus.MustNewConstMetric(outboxPending, prometheus.GaugeValue, float64(lag.Events), g, b)
	}
}

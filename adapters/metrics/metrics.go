package metrics

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/example/accounts/adapters/bus"
	"github.com/example/accounts/adapters/outbox"
	"github.com/example/accounts/commands"
)

// namespace prefixes the service's own metrics.
const namespace = "accounts"

// Metrics holds the service's metrics and the registry they are served from. It is
// safe for concurrent use.
type Metrics struct {
	registry *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	operations        *prometheus.CounterVec
	operationDuration *prometheus.HistogramVec

	logins          *prometheus.CounterVec
	sessionsCreated prometheus.Counter
	sessionsEnded   *prometheus.CounterVec
	throttled       *prometheus.CounterVec

	eventsHandled *prometheus.CounterVec
	eventRetries  *prometheus.CounterVec
	eventsParked  *prometheus.CounterVec
}

// New makes the metrics, on a fresh registry that also holds the Go runtime's, the
// process's and the build's.
func New() *Metrics {
	r := prometheus.NewRegistry()
	f := factory{r}
	m := &Metrics{
		registry: r,

		httpRequests: f.counters("http_requests_total",
			"HTTP requests answered, by route template, method and status class (2xx…5xx).",
			"route", "method", "status"),
		httpDuration: f.histograms("http_request_duration_seconds",
			"Time from a request's arrival to the end of its answer, by route template.",
			prometheus.DefBuckets, "route"),

		operations: f.counters("bus_operations_total",
			"Commands and queries handled on the bus, by operation and outcome (ok, or the error code: unavailable, internal, not_found…).",
			"operation", "outcome"),
		operationDuration: f.histograms("bus_operation_duration_seconds",
			"Time a handler took for one command or query, by operation.",
			[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10}, "operation"),

		logins: f.counters("logins_total",
			"Logins, by outcome: success, invalid_credentials, rate_limited, validation_failed, unavailable…",
			"outcome"),
		sessionsCreated: f.counter("sessions_created_total", "Sessions begun by a login."),
		sessionsEnded: f.counters("sessions_ended_total",
			"Sessions ended, by reason: logout, password (own change or admin set), inactivation, expiry (found expired by a request), purge (expired, removed by the sweeper), limit (session.max_per_user).",
			"reason"),
		throttled: f.counters("throttle_refusals_total",
			"Requests refused with 429, by limit: login (failed logins per username or address), hashing (password hashing budget per address).",
			"kind"),

		eventsHandled: f.counters("events_handled_total",
			"Attempts of a consumer group at an event, by outcome: delivered, failed (retried, then parked), deferred (destination unavailable; handed again later).",
			"consumer_group", "broker", "outcome"),
		eventRetries: f.counters("events_retries_total",
			"Retries of a failed event by a consumer group.", "consumer_group", "broker"),
		eventsParked: f.counters("events_parked_total",
			"Events a consumer group gave up on and parked in the poison table (see `events parked`).",
			"consumer_group", "broker"),
	}
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		// go_build_info: which build an instance runs, to tell a rollout apart.
		collectors.NewBuildInfoCollector(),
	)
	// Series that alerts watch exist from the start, at 0: a rate() over a series
	// that appears only at its first increment misses that increment.
	for _, reason := range []string{"logout", "password", "inactivation", "expiry", "purge", "limit"} {
		m.sessionsEnded.WithLabelValues(reason)
	}
	for _, kind := range []string{"login", "hashing"} {
		m.throttled.WithLabelValues(kind)
	}
	for _, outcome := range []string{"success", "invalid_credentials", "rate_limited"} {
		m.logins.WithLabelValues(outcome)
	}
	return m
}

// ConsumerGroups makes the event series of each consumer group (group → broker,
// as outbox.Router.Groups gives them) exist from the start, at 0.
func (m *Metrics) ConsumerGroups(groups map[string]string) {
	for g, b := range groups {
		b = brokerLabel(b)
		for _, o := range []outbox.Outcome{outbox.OutcomeDelivered, outbox.OutcomeFailed, outbox.OutcomeDeferred} {
			m.eventsHandled.WithLabelValues(g, b, string(o))
		}
		m.eventRetries.WithLabelValues(g, b)
		m.eventsParked.WithLabelValues(g, b)
	}
}

// Register adds collectors of the service's parts that are read on each scrape:
// HasherCollector, OutboxCollector, and the database pool's
// collectors.NewDBStatsCollector.
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.registry.Register(c); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	return nil
}

// Handler serves the metrics in Prometheus' text format. A collector that fails
// (the database is down, say) leaves out its own metrics, not the others.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          m.registry,
		EnableOpenMetrics: false,
		Timeout:           10 * time.Second,
	})
}

// Metrics is the HTTP API's ports.RequestObserver, which an adapter may not name.
var _ interface {
	ObserveRequest(route, method string, status int, took time.Duration)
} = (*Metrics)(nil)

// ObserveRequest counts one HTTP request (ports.RequestObserver).
func (m *Metrics) ObserveRequest(route, method string, status int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.httpRequests.WithLabelValues(route, knownMethod(method), statusClass(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(took.Seconds())
}

// knownMethod keeps the method label to a closed set: a client may send any token.
func knownMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

var _ bus.Observer = (*Metrics)(nil)

// loginOperation is the bus's name of a login: its outcomes are the logins'.
var loginOperation = fmt.Sprintf("%T", commands.Login{})

// Handled counts one command or query handled on the bus (bus.Observer).
func (m *Metrics) Handled(operation, outcome string, took time.Duration) {
	m.operations.WithLabelValues(operation, outcome).Inc()
	m.operationDuration.WithLabelValues(operation).Observe(took.Seconds())
	if operation == loginOperation {
		if outcome == bus.OutcomeOK {
			outcome = "success"
		}
		m.logins.WithLabelValues(outcome).Inc()
	}
}

var _ outbox.Observer = (*Metrics)(nil)

// EventHandled counts one attempt of a consumer group at an event (outbox.Observer).
func (m *Metrics) EventHandled(group, broker string, outcome outbox.Outcome, _ time.Duration) {
	m.eventsHandled.WithLabelValues(group, brokerLabel(broker), string(outcome)).Inc()
}

// EventRetried counts one retry (outbox.Observer).
func (m *Metrics) EventRetried(group, broker string) {
	m.eventRetries.WithLabelValues(group, brokerLabel(broker)).Inc()
}

// EventParked counts one event parked (outbox.Observer).
func (m *Metrics) EventParked(group, broker string) {
	m.eventsParked.WithLabelValues(group, brokerLabel(broker)).Inc()
}

// brokerLabel is "none" for a consumer group handled in process.
func brokerLabel(broker string) string {
	if broker == "" {
		return "none"
	}
	return broker
}

// factory makes the service's metrics and registers them.
type factory struct{ r *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help})
	f.r.MustRegister(c)
	return c
}

func (f factory) counters(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	f.r.MustRegister(c)
	return c
}

func (f factory) histograms(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets}, labels)
	f.r.MustRegister(h)
	return h
}

package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// BenchmarkObservabilityCost measures what metrics and traces cost the hot path:
// GET /api/v1/account/me (two bus round trips, one indexed lookup) from 16 clients,
// served by processes that differ only in their observability, on one database:
// everything off; metrics on (the default); metrics and traces of 1% of requests
// (a production sampling); metrics and traces of every request.
// The variants take turns, four rounds of 3 seconds each, each round led by
// another, so that the machine's
// noise falls on all of them alike; the benchmark reports each variant's median
// req/s and its ratio to the variant with everything off.
func BenchmarkObservabilityCost(b *testing.B) {
	fixture := seedLoadTarget(b, 10000)
	// The traced variants export over OTLP/HTTP, as in production, to a collector
	// that takes every batch and keeps nothing.
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(collector.Close)
	traced := func(ratio string) []string {
		return []string{
			"APP_TRACING_ENABLED=true",
			"OTEL_EXPORTER_OTLP_ENDPOINT=" + collector.URL,
			"OTEL_TRACES_SAMPLER=traceidratio",
			"OTEL_TRACES_SAMPLER_ARG=" + ratio,
		}
	}
	variants := []struct {
		name string
		env  []string
	}{
		{"off", []string{"APP_ADMIN_ADDR="}},
		{"metrics", nil},
		{"metrics+traces-1pct", traced("0.01")},
		{"metrics+traces-all", traced("1")},
	}
	targets := make([]*loadTarget, len(variants))
	for i, v := range variants {
		targets[i] = fixture.start(b, v.env...)
	}
	const rounds = 4
	for range b.N {
		rps := make([][]float64, len(variants))
		for round := range rounds {
			// Each round starts with another variant, so that none always follows
			// the same one.
			for k := range targets {
				i := (round + k) % len(targets)
				t := targets[i]
				r := generateLoad(t.get(t.url+"/api/v1/account/me"), 16, 3*time.Second)
				if r.failed > 0 {
					b.Errorf("%s: %d of %d requests failed: %v", variants[i].name, r.failed, r.requests, r.statuses)
				}
				rps[i] = append(rps[i], r.rps)
			}
		}
		base := median(rps[0])
		for i, v := range variants {
			b.ReportMetric(median(rps[i]), v.name+"-req/s")
			if i > 0 {
				b.ReportMetric(median(rps[i])/base, fmt.Sprintf("x-%s", v.name))
			}
		}
	}
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

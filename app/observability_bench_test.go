package main

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkObservabilityCost measures what metrics and traces cost the hot path:
// GET /api/v1/account/me (two bus round trips, one indexed lookup) from 16 clients,
// served by processes that differ only in their observability, on one database.
// The variants take turns, three rounds of 3 seconds each, so that the machine's
// noise falls on all of them alike; the benchmark reports each variant's median
// req/s and its ratio to the variant with everything off.
func BenchmarkObservabilityCost(b *testing.B) {
	fixture := seedLoadTarget(b, 10000)
	variants := []struct {
		name string
		env  []string
	}{
		{"off", []string{"APP_ADMIN_ADDR="}},
		{"metrics", nil},
	}
	targets := make([]*loadTarget, len(variants))
	for i, v := range variants {
		targets[i] = fixture.start(b, v.env...)
	}
	for range b.N {
		rps := make([][]float64, len(variants))
		for range 3 {
			for i, t := range targets {
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
	return s[len(s)/2]
}

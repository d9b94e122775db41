// Package metrics gives operators the service's Prometheus metrics, on a registry of
// the service's own, served by an admin listener apart from the API.
//
// Every metric is declared in this package, so that one file (metrics.go) lists
// them all, with the README's table as its reading. The components that know the
// facts stay free of Prometheus: the HTTP API, the bus and the outbox tell small
// observer interfaces they declare, which Metrics implements; the password hasher
// keeps counters that a collector reads on each scrape; and the use cases'
// session store, login throttle and hashing budget are decorated here, so that no
// use case counts anything itself.
//
// Label values come from closed sets only (route templates, operation names,
// error codes, consumer groups, reasons): never a raw path, an id or anything a
// client chose, which would let a client grow the metrics without bound.
package metrics

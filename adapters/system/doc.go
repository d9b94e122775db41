// Package system gives the use cases the outside world's time and randomness:
// commands.Clock and commands.IDs. Tests elsewhere replace both with fixed fakes; this
// is the only place that reads the real clock and crypto/rand for them.
package system

//go:build !unix

package bus

import "time"

// processCPU is not measured where getrusage is missing: the benchmarks then
// report their rate only.
func processCPU() (time.Duration, bool) { return 0, false }

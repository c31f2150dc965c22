package experiment

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Limits of the numeric settings: the ranges the load engines can honour.
// A value outside them is bad input, so the load loops may rely on them
// (a rate of at most MaxRate over at least one worker never asks hey for
// a ticker interval below 1µs; MaxHTTPConnections and MaxGRPCConcurrency
// bound the goroutines and their buffers).
const (
	// MinCount and MaxCount bound numRequests, total and warmupNumRequests.
	MinCount = 1
	MaxCount = 1_000_000_000
	// MinDuration and MaxDuration bound duration and warmupDuration.
	MinDuration = time.Millisecond
	MaxDuration = 24 * time.Hour
	// MinRate and MaxRate bound qps and rps, in requests per second over
	// all workers; unlimited is written as a word.
	MinRate = 0.001
	MaxRate = 1_000_000
	// MaxHTTPConnections bounds http connections.
	MaxHTTPConnections = 10_000
	// MaxGRPCConcurrency bounds grpc concurrency.
	MaxGRPCConcurrency = 10_000
	// MaxGRPCConnections bounds grpc connections (and concurrency bounds
	// them too: each connection needs a worker).
	MaxGRPCConnections = 1_000
	// MinHTTPTimeout, MinGRPCTimeout and MaxTimeout bound the per-request
	// timeout.
	MinHTTPTimeout = time.Second
	MinGRPCTimeout = time.Millisecond
	MaxTimeout     = time.Hour
	// MaxReadyTimeout bounds ready.timeout (which must be more than 0).
	MaxReadyTimeout = 24 * time.Hour
	// MinStatus and MaxStatus bound the codes of errorRanges.
	MinStatus = 100
	MaxStatus = 599
)

// outside is the one message for a value out of its range: the value as
// written (quoted), the range and the fix.
func outside(value, lo, hi, fix string) string {
	return fmt.Sprintf("%q is outside %s..%s; %s", value, lo, hi, fix)
}

// checkInt reports an integer setting outside lo..hi.
func checkInt(key string, v, lo, hi int64, fix string, p *problems) bool {
	if v < lo || v > hi {
		p.add(key, outside(strconv.FormatInt(v, 10), strconv.FormatInt(lo, 10), strconv.FormatInt(hi, 10), fix))
		return false
	}
	return true
}

// checkDuration reports a duration setting outside lo..hi.
func checkDuration(key string, d, lo, hi time.Duration, fix string, p *problems) bool {
	if d < lo || d > hi {
		p.add(key, outside(fmtDuration(d), fmtDuration(lo), fmtDuration(hi), fix))
		return false
	}
	return true
}

// checkRate reports a rate that is not finite or outside MinRate..MaxRate.
// value is the text as written.
func checkRate(value string, v float64) error {
	if math.IsNaN(v) || v < MinRate || v > MaxRate {
		return fmt.Errorf("%s", outside(value, fmtFloat(MinRate), fmtFloat(MaxRate), "write the total requests per second, e.g. 50, or "+Unlimited))
	}
	return nil
}

// fmtDuration writes a duration the way people do: 24h, not 24h0m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// fmtFloat writes a number without exponent for the usual magnitudes.
func fmtFloat(v float64) string {
	if math.Abs(v) >= 1e-4 && math.Abs(v) < 1e21 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

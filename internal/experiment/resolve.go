// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"fmt"
	"maps"
	"math"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MetricPrefix is the metric-name prefix of an endpoint: <task>-<name>,
// or <task> alone for a task without named endpoints (Iter8's names).
func MetricPrefix(task, name string) string {
	if name == "" {
		return task
	}
	return task + "-" + name
}

// shared is one level's (the task's top level, or an endpoint's own) part
// of the settings that the http and grpc tasks both have, whatever their
// keys are called there.
type shared struct {
	// countKey is the key the count was written under.
	countKey       string
	count          *int64
	duration       *Duration
	rate           *QPS
	workers        *int
	timeout        *Duration
	warmupCount    *int64
	warmupDuration *Duration
	percentiles    []float64
}

// rules are how one task names, defaults and bounds the shared settings.
type rules struct {
	// countFix ends the message about a bad count, e.g. "write the number
	// of requests to send, e.g. 100".
	countFix       string
	defaultCount   int64
	defaultRate    float64
	workersKey     string
	workersFix     string
	defaultWorkers int
	maxWorkers     int
	minTimeout     time.Duration
	defaultTimeout time.Duration
}

const (
	durationFix = "write e.g. 30s or 10m"
	timeoutFix  = "write e.g. 20s"
)

// where gives the path of the level a setting came from: the endpoint's
// own (ownSet), or the task's top level.
type where func(ownSet bool, key string) string

func wherePath(task, name, path string) where {
	return func(ownSet bool, key string) string {
		if ownSet || name == "" {
			return join(path, key)
		}
		return join(task, key)
	}
}

// endpoints resolves a task's endpoints in name order, or its top level
// alone when it names none. check reports the values one level writes
// that are bad on their own, at the path where they are written (base:
// the task, or the endpoint's path), so each is reported once and even
// when every endpoint overrides it; resolve merges the two levels and
// checks what only the merge shows.
func endpoints[S, E any](task string, top S, named map[string]S, p *problems, check func(base string, s S), resolve func(name, path string, top, own S) E) []E {
	check(task, top)
	if len(named) == 0 {
		var none S
		return []E{resolve("", task, top, none)}
	}
	var out []E
	for _, name := range slices.Sorted(maps.Keys(named)) {
		path := task + ".endpoints." + name
		if strings.ContainsAny(name, "/ ") {
			p.add(path, fmt.Sprintf("endpoint name %q has a slash or space; metric names are %s-<name>/..., so use letters, digits and dashes", name, task))
		}
		check(path, named[name])
		out = append(out, resolve(name, path, top, named[name]))
	}
	return out
}

// check reports each shared setting that one level writes outside its
// limits, and pairs of which it sets both.
func (r rules) check(base string, s shared, p *problems) {
	exclusive(join(base, s.countKey), []string{s.countKey, "duration"}, []bool{s.count != nil, s.duration != nil}, p)
	if s.count != nil {
		checkInt(join(base, s.countKey), *s.count, MinCount, MaxCount, r.countFix, p)
	}
	if s.duration != nil {
		checkDuration(join(base, "duration"), time.Duration(*s.duration), MinDuration, MaxDuration, durationFix, p)
	}
	// s.rate was checked when read: see QPS.UnmarshalYAML.
	if s.workers != nil {
		checkInt(join(base, r.workersKey), int64(*s.workers), 1, int64(r.maxWorkers), r.workersFix, p)
	}
	if s.timeout != nil {
		checkDuration(join(base, "timeout"), time.Duration(*s.timeout), r.minTimeout, MaxTimeout, timeoutFix, p)
	}
	exclusive(join(base, "warmupNumRequests"), []string{"warmupNumRequests", "warmupDuration"}, []bool{s.warmupCount != nil, s.warmupDuration != nil}, p)
	if s.warmupCount != nil {
		checkInt(join(base, "warmupNumRequests"), *s.warmupCount, MinCount, MaxCount, "write the number of warmup requests, or remove the key", p)
	}
	if s.warmupDuration != nil {
		checkDuration(join(base, "warmupDuration"), time.Duration(*s.warmupDuration), MinDuration, MaxDuration, durationFix, p)
	}
	for i, v := range s.percentiles {
		if !(v > 0 && v < 100) { // NaN too
			p.add(fmt.Sprintf("%s[%d]", join(base, "percentiles"), i), fmt.Sprintf("%q is outside (0, 100); write a percentile such as 99.9", fmtFloat(v)))
		}
	}
}

// traffic merges the shared settings into the endpoint's Traffic, with
// defaults filled. The count and duration move as a pair, and so do the
// warmup count and duration: an endpoint that sets one of a pair replaces
// the whole pair of the top level.
func (r rules) traffic(top, own shared) Traffic {
	var t Traffic
	lvl := top
	if own.count != nil || own.duration != nil {
		lvl = own
	}
	switch {
	case lvl.count != nil:
		t.Count = *lvl.count
	case lvl.duration != nil:
		t.Duration = time.Duration(*lvl.duration)
	default:
		t.Count = r.defaultCount
	}

	t.Rate = r.defaultRate
	if q := pickPtr(own.rate, top.rate); q != nil {
		t.Rate = q.PerSecond
	}
	t.Workers = r.defaultWorkers
	if c := pickPtr(own.workers, top.workers); c != nil {
		t.Workers = *c
	}
	if t.Count > 0 && int64(t.Workers) > t.Count {
		// More workers than requests would leave some idle; use fewer.
		t.Workers = int(t.Count)
	}
	t.Timeout = r.defaultTimeout
	if d := pickPtr(own.timeout, top.timeout); d != nil {
		t.Timeout = time.Duration(*d)
	}

	t.Percentiles = slices.Clone(DefaultPercentiles)
	for _, v := range slices.Concat(top.percentiles, own.percentiles) {
		if v > 0 && v < 100 && !slices.Contains(t.Percentiles, v) {
			t.Percentiles = append(t.Percentiles, v)
		}
	}
	slices.Sort(t.Percentiles)

	lvl = top
	if own.warmupCount != nil || own.warmupDuration != nil {
		lvl = own
	}
	switch {
	case lvl.warmupCount != nil:
		t.WarmupCount = *lvl.warmupCount
	case lvl.warmupDuration != nil:
		t.WarmupDuration = time.Duration(*lvl.warmupDuration)
	}
	return t
}

// source picks, of a group of settings of which at most one may be set
// (the payload sources ...; see exclusive), the level that sets any (the
// endpoint's own if it does) and which one is set there: -1 for none.
func source(top, own []bool) (fromOwn bool, which int) {
	fromOwn = slices.Contains(own, true)
	if fromOwn {
		return true, slices.Index(own, true)
	}
	return false, slices.Index(top, true)
}

// exclusive reports at path that more than one of keys is set.
func exclusive(path string, keys []string, set []bool, p *problems) {
	n := 0
	for _, s := range set {
		if s {
			n++
		}
	}
	if n < 2 {
		return
	}
	if len(keys) == 2 {
		p.add(path, fmt.Sprintf("set either %s or %s, not both; remove one", keys[0], keys[1]))
		return
	}
	p.add(path, fmt.Sprintf("set only one of %s and %s; remove the others", strings.Join(keys[:len(keys)-1], ", "), keys[len(keys)-1]))
}

// mergeMaps is top overlaid with own (headers, metadata), a new map.
func mergeMaps(top, own map[string]string) map[string]string {
	out := make(map[string]string, len(top)+len(own))
	maps.Copy(out, top)
	maps.Copy(out, own)
	return out
}

// checkURL reports a URL that is not http(s)://host/...
func checkURL(key, raw string, p *problems) {
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add(key, fmt.Sprintf("%q is not an http(s) URL; write http://host[:port]/path", raw))
	}
}

// relTo makes a relative path start at baseDir ("" leaves it as it is).
func relTo(baseDir, f string) string {
	if baseDir != "" && f != "" && !filepath.IsAbs(f) {
		return filepath.Join(baseDir, f)
	}
	return f
}

// checkFinite reports a limit that is NaN or infinite.
func checkFinite(key string, v float64, fix string, p *problems) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		p.add(key, fmt.Sprintf("%q is not a finite number; %s", strconv.FormatFloat(v, 'g', -1, 64), fix))
	}
}

func pick(own, top string) string {
	if own != "" {
		return own
	}
	return top
}

func pickPtr[T any](own, top *T) *T {
	if own != nil {
		return own
	}
	return top
}

func ptr[T any](v T) *T { return &v }

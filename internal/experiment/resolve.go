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
	task string
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
// alone when it names none, checking that each name can stand in a
// metric name.
func endpoints[S, E any](task string, top S, named map[string]S, p *problems, resolve func(name, path string, top, own S) E) []E {
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
		out = append(out, resolve(name, path, top, named[name]))
	}
	return out
}

// traffic resolves the shared settings into the endpoint's Traffic:
// defaults filled, every value checked against its limits. The count and
// duration move as a pair, and so do the warmup count and duration: an
// endpoint that sets one of a pair replaces the whole pair of the top
// level.
func (r rules) traffic(w where, path string, top, own shared, p *problems) Traffic {
	var t Traffic
	var set bool
	t.Count, t.Duration, set = pair(w, [2]string{top.countKey, own.countKey}, "duration",
		[2]*int64{top.count, own.count}, [2]*Duration{top.duration, own.duration}, r.countFix, p)
	if !set {
		t.Count = r.defaultCount
	}

	t.Rate = r.defaultRate
	if q := pickPtr(own.rate, top.rate); q != nil {
		t.Rate = q.PerSecond // checked when read: see QPS.UnmarshalYAML
	}

	t.Workers = r.defaultWorkers
	if c := pickPtr(own.workers, top.workers); c != nil {
		t.Workers = *c
		checkInt(w(own.workers != nil, r.workersKey), int64(*c), 1, int64(r.maxWorkers), r.workersFix, p)
	}
	if t.Count > 0 && int64(t.Workers) > t.Count {
		// More workers than requests would leave some idle; use fewer.
		t.Workers = int(t.Count)
	}

	t.Timeout = r.defaultTimeout
	if d := pickPtr(own.timeout, top.timeout); d != nil {
		t.Timeout = time.Duration(*d)
		checkDuration(w(own.timeout != nil, "timeout"), t.Timeout, r.minTimeout, MaxTimeout, timeoutFix, p)
	}

	t.Percentiles = percentiles(r.task, path, top.percentiles, own.percentiles, p)
	t.WarmupCount, t.WarmupDuration, _ = pair(w, [2]string{"warmupNumRequests", "warmupNumRequests"}, "warmupDuration",
		[2]*int64{top.warmupCount, own.warmupCount}, [2]*Duration{top.warmupDuration, own.warmupDuration},
		"write the number of warmup requests, or remove the key", p)
	return t
}

// pair takes a count and a duration from one level (the endpoint's own if
// it sets either, else the top level's), checks that at most one is set
// and that it is within its limits, and returns it; set is false when
// neither level sets either.
func pair(w where, countKeys [2]string, durationKey string, counts [2]*int64, durations [2]*Duration, countFix string, p *problems) (n int64, d time.Duration, set bool) {
	own := counts[1] != nil || durations[1] != nil
	i := 0
	if own {
		i = 1
	}
	switch which := exclusive(w(own, countKeys[i]), []string{countKeys[i], durationKey}, []bool{counts[i] != nil, durations[i] != nil}, p); which {
	case 0:
		n = *counts[i]
		checkInt(w(own, countKeys[i]), n, MinCount, MaxCount, countFix, p)
	case 1:
		d = time.Duration(*durations[i])
		checkDuration(w(own, durationKey), d, MinDuration, MaxDuration, durationFix, p)
	case -1:
		return 0, 0, false
	}
	return n, d, true
}

// oneOf picks, of a group of settings of which at most one may be set
// (the payload sources ...), the level that sets any (the endpoint's own
// if it does), and which one is set there: -1 for none.
func oneOf(w where, keys []string, top, own []bool, p *problems) (fromOwn bool, which int) {
	fromOwn = slices.Contains(own, true)
	set := top
	if fromOwn {
		set = own
	}
	return fromOwn, exclusive(w(fromOwn, keys[0]), keys, set, p)
}

// exclusive returns which of keys is set (the first, if several are, which
// is a problem reported at path), or -1.
func exclusive(path string, keys []string, set []bool, p *problems) int {
	which, n := -1, 0
	for i, s := range set {
		if s {
			n++
			if which < 0 {
				which = i
			}
		}
	}
	if n > 1 {
		if len(keys) == 2 {
			p.add(path, fmt.Sprintf("set either %s or %s, not both; remove one", keys[0], keys[1]))
		} else {
			p.add(path, fmt.Sprintf("set only one of %s and %s; remove the others", strings.Join(keys[:len(keys)-1], ", "), keys[len(keys)-1]))
		}
	}
	return which
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

// percentiles are the defaults plus those asked for at either level, sorted.
func percentiles(task, path string, top, own []float64, p *problems) []float64 {
	out := slices.Clone(DefaultPercentiles)
	for _, lvl := range []struct {
		list []float64
		key  string
	}{{top, task + ".percentiles"}, {own, join(path, "percentiles")}} {
		for i, v := range lvl.list {
			if !(v > 0 && v < 100) { // NaN too
				p.add(fmt.Sprintf("%s[%d]", lvl.key, i), fmt.Sprintf("%q is outside (0, 100); write a percentile such as 99.9", fmtFloat(v)))
				continue
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	slices.Sort(out)
	return out
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

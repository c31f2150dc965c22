package experiment

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Iter8's defaults for the http task, kept so seed experiments send the
// same load they did there.
const (
	DefaultHTTPNumRequests = 100
	DefaultHTTPQPS         = 8
	DefaultHTTPConnections = 4
	// DefaultHTTPTimeout is hey's default per-request timeout.
	DefaultHTTPTimeout = 20 * time.Second
)

// DefaultPercentiles are always reported; requested ones are added.
var DefaultPercentiles = []float64{50, 75, 90, 95, 99, 99.9}

// Traffic is how one endpoint is loaded, resolved: the part the http and
// grpc tasks share, and all that the load loop needs to know.
type Traffic struct {
	// Count of requests (calls) to send; 0 when Duration is set.
	Count int64
	// Duration of the load; 0 when Count is set.
	Duration time.Duration
	// Rate is the total requests (calls) per second over all workers;
	// 0 is unlimited.
	Rate float64
	// Workers send at once: connections (http) or concurrency (grpc).
	Workers int
	// Timeout of one request (call).
	Timeout time.Duration
	// WarmupCount or WarmupDuration (at most one set) are sent first and
	// left out of the metrics; both 0 means no warmup.
	WarmupCount    int64
	WarmupDuration time.Duration
	// Percentiles reported, the defaults included, sorted.
	Percentiles []float64
}

// HTTPEndpoint is one endpoint with every setting resolved: top-level
// settings merged in, defaults filled.
type HTTPEndpoint struct {
	// Name is the endpoint's key, "" without endpoints.
	Name string
	// Path is the field path of its settings, for messages.
	Path string
	Traffic
	URL         string
	Method      string
	ContentType string
	Headers     map[string]string
	ErrorRanges []ErrorRange
	// Payload source, at most one; the body itself is filled by LoadPayloads.
	PayloadStr, PayloadFile, PayloadURL string
	HasPayload                          bool
	Payload                             []byte
}

// MetricPrefix is http-<name>, or http without endpoints (Iter8's names).
func (ep HTTPEndpoint) MetricPrefix() string {
	if ep.Name == "" {
		return TaskHTTP
	}
	return TaskHTTP + "-" + ep.Name
}

// IsError reports whether a status code counts as an error.
func (ep HTTPEndpoint) IsError(code int) bool {
	for _, r := range ep.ErrorRanges {
		if r.Contains(code) {
			return true
		}
	}
	return false
}

// HTTPEndpoints returns the endpoints of the http task in a stable order
// (by name). The experiment must have passed Parse.
func (e *Experiment) HTTPEndpoints() []HTTPEndpoint {
	var p problems
	return e.HTTP.endpoints(e.BaseDir, &p)
}

func (h *HTTP) validate(p *problems) {
	if len(h.Endpoints) == 0 && h.URL == "" {
		p.add("http.url", "missing; set http.url, or name endpoints under http.endpoints each with a url")
		return
	}
	h.endpoints("", p)
}

func (h *HTTP) endpoints(baseDir string, p *problems) []HTTPEndpoint {
	if len(h.Endpoints) == 0 {
		return []HTTPEndpoint{resolve("", "http", h.HTTPSettings, HTTPSettings{}, baseDir, p)}
	}
	return eachEndpoint(TaskHTTP, h.Endpoints, p, func(name, path string, own HTTPSettings) HTTPEndpoint {
		return resolve(name, path, h.HTTPSettings, own, baseDir, p)
	})
}

// eachEndpoint resolves a task's endpoints in name order, checking that
// each name can stand in a metric name.
func eachEndpoint[S, E any](task string, endpoints map[string]S, p *problems, resolve func(name, path string, own S) E) []E {
	var out []E
	for _, name := range slices.Sorted(maps.Keys(endpoints)) {
		path := task + ".endpoints." + name
		if strings.ContainsAny(name, "/ ") {
			p.add(path, fmt.Sprintf("endpoint name %q has a slash or space; metric names are %s-<name>/..., so use letters, digits and dashes", name, task))
		}
		out = append(out, resolve(name, path, endpoints[name]))
	}
	return out
}

// resolve merges an endpoint's settings over the top level's, fills
// defaults and checks every value. Paired settings (numRequests/duration,
// the payload sources, the warmup pair) move together: an endpoint that
// sets one of a pair replaces the whole pair from the top level.
func resolve(name, path string, top, own HTTPSettings, baseDir string, p *problems) HTTPEndpoint {
	ep := HTTPEndpoint{Name: name, Path: path}
	where := wherePath(TaskHTTP, name, path)

	ep.URL = pick(own.URL, top.URL)
	switch u, err := url.Parse(ep.URL); {
	case ep.URL == "":
		p.add(join(path, "url"), "missing; write the endpoint's URL, e.g. http://httpbin.default/get")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		p.add(where(own.URL != "", "url"), fmt.Sprintf("%q is not an http(s) URL; write http://host[:port]/path", ep.URL))
	}

	ep.Count, ep.Duration = amountPair(where, "numRequests", DefaultHTTPNumRequests,
		[2]*int64{top.NumRequests, own.NumRequests}, [2]*Duration{top.Duration, own.Duration}, p)

	ep.Rate = DefaultHTTPQPS
	if q := pickPtr(own.QPS, top.QPS); q != nil {
		ep.Rate = q.PerSecond
	}
	ep.Workers = DefaultHTTPConnections
	if c := pickPtr(own.Connections, top.Connections); c != nil {
		ep.Workers = *c
		if *c <= 0 {
			p.add(where(own.Connections != nil, "connections"), fmt.Sprintf("%d must be more than 0; write the number of parallel connections, e.g. 4", *c))
		}
	}
	if ep.Count > 0 && ep.Workers > 0 && int64(ep.Workers) > ep.Count {
		// More connections than requests would leave some idle; use fewer.
		ep.Workers = int(ep.Count)
	}

	ep.Timeout = DefaultHTTPTimeout
	if t := pickPtr(own.Timeout, top.Timeout); t != nil {
		ep.Timeout = positiveDuration(where(own.Timeout != nil, "timeout"), *t, p)
		if ep.Timeout > 0 && ep.Timeout%time.Second != 0 {
			p.add(where(own.Timeout != nil, "timeout"), fmt.Sprintf("%q is not a whole number of seconds (the resolution of hey, which sends the load); write 1s or more, and bound latency with an SLO such as latency-max", ep.Timeout))
		}
	}

	ep.Method = pick(own.Method, top.Method)
	if ep.Method != "" && !validMethod(ep.Method) {
		p.add(where(own.Method != "", "method"), fmt.Sprintf("%q is not an HTTP method; write GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS", ep.Method))
	}
	if ct := pickPtr(own.ContentType, top.ContentType); ct != nil {
		ep.ContentType = *ct
	}
	ep.Headers = map[string]string{}
	for k, v := range top.Headers {
		ep.Headers[k] = v
	}
	for k, v := range own.Headers {
		ep.Headers[k] = v
	}

	payloadOwn := own.PayloadStr != nil || own.PayloadFile != nil || own.PayloadURL != nil
	ps, pf, pu := top.PayloadStr, top.PayloadFile, top.PayloadURL
	if payloadOwn {
		ps, pf, pu = own.PayloadStr, own.PayloadFile, own.PayloadURL
	}
	set := 0
	for _, v := range []*string{ps, pf, pu} {
		if v != nil {
			set++
		}
	}
	if set > 1 {
		p.add(where(payloadOwn, "payloadStr"), "set only one of payloadStr, payloadFile and payloadURL; remove the others")
	}
	ep.HasPayload = set > 0
	switch {
	case ps != nil:
		ep.PayloadStr = *ps
		ep.Payload = []byte(*ps)
	case pf != nil:
		ep.PayloadFile = *pf
		if baseDir != "" && !filepath.IsAbs(*pf) {
			ep.PayloadFile = filepath.Join(baseDir, *pf)
		}
	case pu != nil:
		ep.PayloadURL = *pu
		if u, err := url.Parse(*pu); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add(where(payloadOwn, "payloadURL"), fmt.Sprintf("%q is not an http(s) URL; write http://host[:port]/path", *pu))
		}
	}
	if ep.Method == "" {
		ep.Method = http.MethodGet
		if ep.HasPayload {
			ep.Method = http.MethodPost
		}
	}

	ep.ErrorRanges = []ErrorRange{{Lower: ptr(400)}}
	ranges, rangesKey := top.ErrorRanges, where(false, "errorRanges")
	if own.ErrorRanges != nil {
		ranges, rangesKey = own.ErrorRanges, join(path, "errorRanges")
	}
	if ranges != nil {
		ep.ErrorRanges = ranges
		for i, r := range ranges {
			key := fmt.Sprintf("%s[%d]", rangesKey, i)
			switch {
			case r.Lower == nil && r.Upper == nil:
				p.add(key, "empty range; write lower and/or upper status codes, e.g. {lower: 500}")
			case r.Lower != nil && r.Upper != nil && *r.Lower > *r.Upper:
				p.add(key, fmt.Sprintf("lower %d is above upper %d; swap them", *r.Lower, *r.Upper))
			}
		}
	}

	ep.Percentiles = percentiles(path, top.Percentiles, own.Percentiles, p)
	ep.WarmupCount, ep.WarmupDuration = warmupPair(where,
		[2]*int64{top.WarmupNumRequests, own.WarmupNumRequests}, [2]*Duration{top.WarmupDuration, own.WarmupDuration}, p)
	return ep
}

// LoadPayloads reads each endpoint's payloadFile or fetches its payloadURL.
// An unreadable file or unreachable URL is bad input.
func LoadPayloads(ctx context.Context, client *http.Client, eps []HTTPEndpoint) error {
	var p problems
	for i := range eps {
		ep := &eps[i]
		switch {
		case ep.PayloadFile != "":
			b, err := os.ReadFile(ep.PayloadFile)
			if err != nil {
				p.add(join(ep.Path, "payloadFile"), fmt.Sprintf("cannot read %q: %v; give a path relative to the experiment file, or an absolute one", ep.PayloadFile, unwrapPathError(err)))
				continue
			}
			ep.Payload = b
		case ep.PayloadURL != "":
			b, err := Fetch(ctx, client, ep.PayloadURL)
			if err != nil {
				p.add(join(ep.Path, "payloadURL"), err.Error())
				continue
			}
			ep.Payload = b
		}
	}
	return p.err("")
}

// Fetch gets a small document (a payload, a proto) by URL, with a
// message that says how to fix a failure.
func Fetch(ctx context.Context, client *http.Client, rawURL string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %v", rawURL, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch %q: %v; check the URL is reachable from where the step runs", rawURL, errorsCause(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching %q returned %s; check the URL", rawURL, resp.Status)
	}
	const limit = 64 << 20
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %q: %v; check the URL is reachable from where the step runs", rawURL, err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%q is larger than 64 MiB; use a smaller payload", rawURL)
	}
	return b, nil
}

// errorsCause drops url.Error's repetition of method and URL.
func errorsCause(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func validMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
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

// wherePath returns a function that gives the path of the level a setting
// came from: the endpoint's own, or the task's top level.
func wherePath(task, name, path string) func(ownSet bool, key string) string {
	return func(ownSet bool, key string) string {
		if ownSet || name == "" {
			return join(path, key)
		}
		return join(task, key)
	}
}

// amountPair resolves a count/duration pair (numRequests or total, and
// duration): the endpoint's pair if it sets either, else the top level's,
// else the default count.
func amountPair(where func(bool, string) string, countKey string, def int64, counts [2]*int64, durations [2]*Duration, p *problems) (int64, time.Duration) {
	n, d := pair(where, countKey, "duration", "the number of requests to send, e.g. 100", counts, durations, p)
	if n == 0 && d == 0 {
		return def, 0
	}
	return n, d
}

// warmupPair resolves warmupNumRequests / warmupDuration the same way;
// neither set means no warmup.
func warmupPair(where func(bool, string) string, counts [2]*int64, durations [2]*Duration, p *problems) (int64, time.Duration) {
	return pair(where, "warmupNumRequests", "warmupDuration", "the number of warmup requests, or remove the key", counts, durations, p)
}

// pair takes a count and a duration from the same level (the endpoint's
// own if it sets either), checks that at most one is set and that it is
// positive, and returns it; zero values when neither is set.
func pair(where func(bool, string) string, countKey, durationKey, countFix string, counts [2]*int64, durations [2]*Duration, p *problems) (int64, time.Duration) {
	n, d := counts[0], durations[0]
	own := counts[1] != nil || durations[1] != nil
	if own {
		n, d = counts[1], durations[1]
	}
	switch {
	case n != nil && d != nil:
		p.add(where(own, countKey), fmt.Sprintf("set either %s or %s, not both; remove one", countKey, durationKey))
	case n != nil:
		if *n <= 0 {
			p.add(where(own, countKey), fmt.Sprintf("%d must be more than 0; write %s", *n, countFix))
		}
		return *n, 0
	case d != nil:
		return 0, positiveDuration(where(own, durationKey), *d, p)
	}
	return 0, 0
}

func positiveDuration(key string, d Duration, p *problems) time.Duration {
	if d <= 0 {
		p.add(key, fmt.Sprintf("%q must be more than 0; write e.g. 30s", time.Duration(d)))
	}
	return time.Duration(d)
}

// percentiles are the defaults plus those asked for at either level, sorted.
func percentiles(path string, top, own []float64, p *problems) []float64 {
	out := slices.Clone(DefaultPercentiles)
	task, _, _ := strings.Cut(path, ".")
	for _, lvl := range []struct {
		list []float64
		key  string
	}{{top, task + ".percentiles"}, {own, join(path, "percentiles")}} {
		for i, v := range lvl.list {
			if v <= 0 || v >= 100 {
				p.add(fmt.Sprintf("%s[%d]", lvl.key, i), fmt.Sprintf("%s is outside (0, 100); write a percentile such as 99.9", strconv.FormatFloat(v, 'g', -1, 64)))
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

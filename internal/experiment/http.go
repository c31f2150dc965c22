// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
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
	// RatedCount, set by Share on a worker's part of a load at a Rate
	// for a Duration, is the requests that worker sends: its SplitCount
	// of the whole load's, so that the workers' add up to it. 0 means
	// RatedTotal.
	RatedCount int64
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
	// Payload source, at most one. The body itself is Payload:
	// PayloadStr's is set here, a file's or a URL's by httpload.Prepare.
	PayloadStr, PayloadFile, PayloadURL string
	HasPayload                          bool
	Payload                             []byte
}

// MetricPrefix is http-<name>, or http without endpoints (Iter8's names).
func (ep HTTPEndpoint) MetricPrefix() string { return MetricPrefix(TaskHTTP, ep.Name) }

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
// (by name), as Parse or Load resolved them; nil when the experiment has
// no http section. Each call returns new copies: changing them leaves the
// experiment as it is.
func (e *Experiment) HTTPEndpoints() []HTTPEndpoint {
	if e.http == nil {
		return nil
	}
	out := make([]HTTPEndpoint, len(e.http))
	for i, ep := range e.http {
		out[i] = ep.clone()
	}
	return out
}

// clone copies everything the endpoint refers to.
func (ep HTTPEndpoint) clone() HTTPEndpoint {
	ep.Traffic = ep.Traffic.clone()
	ep.Headers = maps.Clone(ep.Headers)
	ep.ErrorRanges = cloneRanges(ep.ErrorRanges)
	ep.Payload = slices.Clone(ep.Payload)
	return ep
}

func (t Traffic) clone() Traffic {
	t.Percentiles = slices.Clone(t.Percentiles)
	return t
}

func cloneRanges(in []ErrorRange) []ErrorRange {
	if in == nil {
		return nil
	}
	out := make([]ErrorRange, len(in))
	for i, r := range in {
		if r.Lower != nil {
			out[i].Lower = ptr(*r.Lower)
		}
		if r.Upper != nil {
			out[i].Upper = ptr(*r.Upper)
		}
	}
	return out
}

// httpRules are the http task's names, defaults and limits of the
// settings it shares with grpc.
func httpRules() rules {
	return rules{
		countFix:       "write the number of requests to send, e.g. 100",
		defaultCount:   DefaultHTTPNumRequests,
		defaultRate:    DefaultHTTPQPS,
		workersKey:     "connections",
		workersFix:     "write the number of parallel connections, e.g. 4",
		defaultWorkers: DefaultHTTPConnections,
		maxWorkers:     MaxHTTPConnections,
		minTimeout:     MinHTTPTimeout,
		defaultTimeout: DefaultHTTPTimeout,
	}
}

// resolve resolves the http task's endpoints, with relative payloadFile
// paths taken from baseDir.
func (h *HTTP) resolve(baseDir string, p *problems) []HTTPEndpoint {
	return endpoints(TaskHTTP, h.HTTPSettings, h.Endpoints, p,
		func(base string, s HTTPSettings) { checkHTTP(base, s, p) },
		func(name, path string, top, own HTTPSettings) HTTPEndpoint {
			return resolveHTTP(name, path, top, own, baseDir, p)
		})
}

func (s HTTPSettings) shared() shared {
	return shared{
		countKey: "numRequests", count: s.NumRequests, duration: s.Duration,
		rate: s.QPS, workers: s.Connections, timeout: s.Timeout,
		warmupCount: s.WarmupNumRequests, warmupDuration: s.WarmupDuration,
		percentiles: s.Percentiles,
	}
}

// payloadKeys are the payload sources, of which one may be set.
func payloadKeys() []string { return []string{"payloadStr", "payloadFile", "payloadURL"} }

func (s HTTPSettings) payloads() []bool {
	return []bool{s.PayloadStr != nil, s.PayloadFile != nil, s.PayloadURL != nil}
}

// checkHTTP reports what is bad in one level's settings on its own.
func checkHTTP(base string, s HTTPSettings, p *problems) {
	if s.URL != "" {
		checkURL(join(base, "url"), s.URL, p)
	}
	httpRules().check(base, s.shared(), p)
	if s.Method != "" && !validMethod(s.Method) {
		p.add(join(base, "method"), fmt.Sprintf("%q is not an HTTP method; write GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS", s.Method))
	}
	exclusive(join(base, "payloadStr"), payloadKeys(), s.payloads(), p)
	if s.PayloadURL != nil {
		checkDocumentURL(join(base, "payloadURL"), *s.PayloadURL, p)
	}
	for i, r := range s.ErrorRanges {
		key := fmt.Sprintf("%s[%d]", join(base, "errorRanges"), i)
		ok := true
		for _, end := range []struct {
			name string
			code *int
		}{{"lower", r.Lower}, {"upper", r.Upper}} {
			if end.code != nil {
				ok = checkInt(key+"."+end.name, int64(*end.code), MinStatus, MaxStatus, "write an HTTP status code, e.g. 500", p) && ok
			}
		}
		switch {
		case r.Lower == nil && r.Upper == nil:
			p.add(key, "empty range; write lower and/or upper status codes, e.g. {lower: 500}")
		case ok && r.Lower != nil && r.Upper != nil && *r.Lower > *r.Upper:
			p.add(key, fmt.Sprintf("lower %d is above upper %d; swap them", *r.Lower, *r.Upper))
		}
	}
}

// resolveHTTP merges an endpoint's settings over the top level's and
// fills defaults. It only reads top and own.
func resolveHTTP(name, path string, top, own HTTPSettings, baseDir string, p *problems) HTTPEndpoint {
	ep := HTTPEndpoint{Name: name, Path: path}

	ep.URL = pick(own.URL, top.URL)
	switch {
	case ep.URL == "" && name == "":
		p.add("http.url", "missing; set http.url, or name endpoints under http.endpoints each with a url")
	case ep.URL == "":
		p.add(join(path, "url"), "missing; write the endpoint's URL, e.g. http://httpbin.default/get")
	}

	ep.Traffic = httpRules().traffic(top.shared(), own.shared())

	ep.Method = pick(own.Method, top.Method)
	if ct := pickPtr(own.ContentType, top.ContentType); ct != nil {
		ep.ContentType = *ct
	}
	ep.Headers = mergeMaps(top.Headers, own.Headers)

	fromOwn, which := source(top.payloads(), own.payloads())
	lvl := top
	if fromOwn {
		lvl = own
	}
	ep.HasPayload = which >= 0
	switch which {
	case 0:
		ep.PayloadStr = *lvl.PayloadStr
		ep.Payload = []byte(ep.PayloadStr)
	case 1:
		ep.PayloadFile = relTo(baseDir, *lvl.PayloadFile)
	case 2:
		ep.PayloadURL = *lvl.PayloadURL
	}
	if ep.Method == "" {
		ep.Method = http.MethodGet
		if ep.HasPayload {
			ep.Method = http.MethodPost
		}
	}

	ep.ErrorRanges = []ErrorRange{{Lower: ptr(400)}}
	if r := own.ErrorRanges; r != nil {
		ep.ErrorRanges = cloneRanges(r)
	} else if r := top.ErrorRanges; r != nil {
		ep.ErrorRanges = cloneRanges(r)
	}
	return ep
}

// Fetch gets a small document (a payload, a proto) by URL, with a
// message that says how to fix a failure. It never fetches from a
// link-local address (see documents.go), whatever client's transport.
func Fetch(ctx context.Context, client *http.Client, rawURL string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %v", rawURL, err)
	}
	var redirectedTo string
	c := documentClient(client, &redirectedTo)
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		if msg := refusedFetch(rawURL, redirectedTo, err); msg != "" {
			return nil, errors.New(msg)
		}
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

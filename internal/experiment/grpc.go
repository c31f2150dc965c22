package experiment

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// ghz's defaults for the grpc task (Iter8 used them too).
const (
	DefaultGRPCTotal       = 200
	DefaultGRPCConcurrency = 50
	DefaultGRPCConnections = 1
	DefaultGRPCTimeout     = 20 * time.Second
)

// GRPC is the grpc task: top-level settings are defaults for every
// endpoint; an endpoint's own settings win.
type GRPC struct {
	GRPCSettings `yaml:",inline"`
	// Endpoints by name; the name becomes the metric prefix grpc-<name>.
	Endpoints map[string]GRPCSettings `yaml:"endpoints,omitempty" json:"endpoints,omitempty"`
}

// GRPCSettings are one endpoint's settings, or the defaults of all.
type GRPCSettings struct {
	// Host is host:port.
	Host string `yaml:"host,omitempty" json:"host,omitempty"`
	// Call is package.Service.Method or package.Service/Method.
	Call string `yaml:"call,omitempty" json:"call,omitempty"`
	// ProtoFile or ProtoURL describe the service; without them the server's
	// reflection is asked.
	ProtoFile   *string  `yaml:"protoFile,omitempty" json:"protoFile,omitempty"`
	ProtoURL    *string  `yaml:"protoURL,omitempty" json:"protoURL,omitempty"`
	ImportPaths []string `yaml:"importPaths,omitempty" json:"importPaths,omitempty"`
	// Data is the request message as YAML/JSON; at most one data source.
	Data     any               `yaml:"data,omitempty" json:"data,omitempty"`
	DataFile *string           `yaml:"dataFile,omitempty" json:"dataFile,omitempty"`
	DataURL  *string           `yaml:"dataURL,omitempty" json:"dataURL,omitempty"`
	Metadata map[string]string `yaml:"metadata,omitempty" json:"metadata,omitempty"`
	// Total calls (numRequests is accepted as the same), or Duration.
	Total       *int64    `yaml:"total,omitempty" json:"total,omitempty"`
	NumRequests *int64    `yaml:"numRequests,omitempty" json:"numRequests,omitempty"`
	Duration    *Duration `yaml:"duration,omitempty" json:"duration,omitempty"`
	// RPS is the total rate of calls, whole calls per second, or unlimited (default).
	RPS         *QPS      `yaml:"rps,omitempty" json:"rps,omitempty"`
	Concurrency *int      `yaml:"concurrency,omitempty" json:"concurrency,omitempty"`
	Connections *int      `yaml:"connections,omitempty" json:"connections,omitempty"`
	Timeout     *Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// Insecure (default true, as in the seed) sends plaintext; false uses
	// TLS, verified against CACert when given, else the system's roots.
	Insecure *bool   `yaml:"insecure,omitempty" json:"insecure,omitempty"`
	CACert   *string `yaml:"cacert,omitempty" json:"cacert,omitempty"`
	// SkipFirst calls are sent but left out of the metrics (ghz's skipFirst).
	SkipFirst         *int64    `yaml:"skipFirst,omitempty" json:"skipFirst,omitempty"`
	WarmupNumRequests *int64    `yaml:"warmupNumRequests,omitempty" json:"warmupNumRequests,omitempty"`
	WarmupDuration    *Duration `yaml:"warmupDuration,omitempty" json:"warmupDuration,omitempty"`
	Percentiles       []float64 `yaml:"percentiles,omitempty" json:"percentiles,omitempty"`
}

// GRPCEndpoint is one endpoint with every setting resolved. Its Traffic's
// Workers are ghz's concurrency.
type GRPCEndpoint struct {
	Name, Path string
	Traffic
	Host, Call string
	// ProtoFile (absolute or relative to the experiment) or ProtoURL; both
	// empty means reflection.
	ProtoFile, ProtoURL string
	ImportPaths         []string
	// DataJSON is the request message as JSON (from data); DataFile and
	// DataURL are read by the load step.
	DataJSON          []byte
	DataFile, DataURL string
	Metadata          map[string]string
	// Connections the workers share.
	Connections int
	Insecure    bool
	CACert      string
	// SkipFirst calls are sent but left out of the metrics (ghz's).
	SkipFirst int64
}

// MetricPrefix is grpc-<name>, or grpc without endpoints.
func (ep GRPCEndpoint) MetricPrefix() string {
	if ep.Name == "" {
		return TaskGRPC
	}
	return TaskGRPC + "-" + ep.Name
}

// GRPCEndpoints returns the grpc task's endpoints by name. The experiment
// must have passed Parse.
func (e *Experiment) GRPCEndpoints() []GRPCEndpoint {
	var p problems
	return e.GRPC.endpoints(e.BaseDir, &p)
}

func (g *GRPC) validate(p *problems) {
	g.endpoints("", p)
}

func (g *GRPC) endpoints(baseDir string, p *problems) []GRPCEndpoint {
	if len(g.Endpoints) == 0 {
		return []GRPCEndpoint{resolveGRPC("", "grpc", g.GRPCSettings, GRPCSettings{}, baseDir, p)}
	}
	return eachEndpoint(TaskGRPC, g.Endpoints, p, func(name, path string, own GRPCSettings) GRPCEndpoint {
		return resolveGRPC(name, path, g.GRPCSettings, own, baseDir, p)
	})
}

func resolveGRPC(name, path string, top, own GRPCSettings, baseDir string, p *problems) GRPCEndpoint {
	ep := GRPCEndpoint{Name: name, Path: path}
	where := wherePath(TaskGRPC, name, path)
	rel := func(f string) string {
		if baseDir != "" && f != "" && !filepath.IsAbs(f) {
			return filepath.Join(baseDir, f)
		}
		return f
	}

	ep.Host = pick(own.Host, top.Host)
	if ep.Host == "" {
		p.add(join(path, "host"), "missing; write the server's host:port, e.g. routeguide.default:50051")
	} else if _, port, err := net.SplitHostPort(ep.Host); err != nil || port == "" {
		p.add(where(own.Host != "", "host"), fmt.Sprintf("%q has no port; write host:port, e.g. routeguide.default:50051", ep.Host))
	}
	ep.Call = pick(own.Call, top.Call)
	if ep.Call == "" {
		p.add(join(path, "call"), "missing; write the method as package.Service.Method, e.g. routeguide.RouteGuide.GetFeature")
	} else if !validCall(ep.Call) {
		p.add(where(own.Call != "", "call"), fmt.Sprintf("%q is not a method name; write package.Service.Method, e.g. routeguide.RouteGuide.GetFeature", ep.Call))
	}

	protoOwn := own.ProtoFile != nil || own.ProtoURL != nil
	pf, pu := top.ProtoFile, top.ProtoURL
	if protoOwn {
		pf, pu = own.ProtoFile, own.ProtoURL
	}
	switch {
	case pf != nil && pu != nil:
		p.add(where(protoOwn, "protoFile"), "set either protoFile or protoURL, not both; remove one")
	case pf != nil:
		ep.ProtoFile = rel(*pf)
	case pu != nil:
		ep.ProtoURL = *pu
		checkURL(where(protoOwn, "protoURL"), *pu, p)
	}
	ep.ImportPaths = top.ImportPaths
	if own.ImportPaths != nil {
		ep.ImportPaths = own.ImportPaths
	}
	for i := range ep.ImportPaths {
		ep.ImportPaths[i] = rel(ep.ImportPaths[i])
	}

	dataOwn := own.Data != nil || own.DataFile != nil || own.DataURL != nil
	d, df, du := top.Data, top.DataFile, top.DataURL
	if dataOwn {
		d, df, du = own.Data, own.DataFile, own.DataURL
	}
	set := 0
	for _, v := range []bool{d != nil, df != nil, du != nil} {
		if v {
			set++
		}
	}
	if set > 1 {
		p.add(where(dataOwn, "data"), "set only one of data, dataFile and dataURL; remove the others")
	}
	switch {
	case d != nil:
		b, err := json.Marshal(jsonCompatible(d))
		if err != nil {
			p.add(where(dataOwn, "data"), fmt.Sprintf("cannot be written as JSON (%v); write the message's fields as a mapping", err))
		}
		ep.DataJSON = b
	case df != nil:
		ep.DataFile = rel(*df)
	case du != nil:
		ep.DataURL = *du
		checkURL(where(dataOwn, "dataURL"), *du, p)
	}
	ep.Metadata = map[string]string{}
	for k, v := range top.Metadata {
		ep.Metadata[k] = v
	}
	for k, v := range own.Metadata {
		ep.Metadata[k] = v
	}

	// total and numRequests are one setting under two names.
	countKey := "total"
	topCount, ownCount := top.Total, own.Total
	for _, lvl := range []struct {
		total, num **int64
		own        bool
	}{{&topCount, &top.NumRequests, false}, {&ownCount, &own.NumRequests, true}} {
		if *lvl.num != nil {
			if *lvl.total != nil {
				p.add(where(lvl.own, "numRequests"), "numRequests and total are the same setting; remove one")
			}
			*lvl.total = *lvl.num
			countKey = "numRequests"
		}
	}
	ep.Count, ep.Duration = amountPair(where, countKey, DefaultGRPCTotal,
		[2]*int64{topCount, ownCount}, [2]*Duration{top.Duration, own.Duration}, p)

	if r := pickPtr(own.RPS, top.RPS); r != nil {
		if r.PerSecond != math.Trunc(r.PerSecond) {
			p.add(where(own.RPS != nil, "rps"), fmt.Sprintf("%g is not a whole number; ghz paces whole calls per second, write e.g. 50", r.PerSecond))
		}
		ep.Rate = r.PerSecond
	}
	ep.Workers = DefaultGRPCConcurrency
	if c := pickPtr(own.Concurrency, top.Concurrency); c != nil {
		ep.Workers = *c
		if *c <= 0 {
			p.add(where(own.Concurrency != nil, "concurrency"), fmt.Sprintf("%d must be more than 0; write the number of concurrent workers, e.g. 50", *c))
		}
	}
	ep.Connections = DefaultGRPCConnections
	if c := pickPtr(own.Connections, top.Connections); c != nil {
		ep.Connections = *c
		if *c <= 0 {
			p.add(where(own.Connections != nil, "connections"), fmt.Sprintf("%d must be more than 0; write the number of connections, e.g. 1", *c))
		}
	}
	if ep.Count > 0 && int64(ep.Workers) > ep.Count {
		ep.Workers = int(ep.Count)
	}
	// ghz cannot use more connections than workers.
	ep.Connections = min(ep.Connections, max(ep.Workers, 1))
	ep.Timeout = DefaultGRPCTimeout
	if t := pickPtr(own.Timeout, top.Timeout); t != nil {
		ep.Timeout = positiveDuration(where(own.Timeout != nil, "timeout"), *t, p)
	}

	ep.Insecure = true
	if in := pickPtr(own.Insecure, top.Insecure); in != nil {
		ep.Insecure = *in
	}
	if ca := pickPtr(own.CACert, top.CACert); ca != nil {
		ep.CACert = rel(*ca)
		if ep.Insecure {
			p.add(where(own.CACert != nil, "cacert"), "a CA file means TLS, but insecure is true (the default); add insecure: false")
		}
	}
	if s := pickPtr(own.SkipFirst, top.SkipFirst); s != nil {
		ep.SkipFirst = *s
		key := where(own.SkipFirst != nil, "skipFirst")
		switch {
		case *s < 0:
			p.add(key, fmt.Sprintf("%d is negative; write the number of first calls to leave out, or remove the key", *s))
		case ep.Count > 0 && *s >= ep.Count:
			p.add(key, fmt.Sprintf("%d leaves none of the %d calls; skip fewer, or send more", *s, ep.Count))
		}
	}
	ep.Percentiles = percentiles(path, top.Percentiles, own.Percentiles, p)
	ep.WarmupCount, ep.WarmupDuration = warmupPair(where,
		[2]*int64{top.WarmupNumRequests, own.WarmupNumRequests}, [2]*Duration{top.WarmupDuration, own.WarmupDuration}, p)
	return ep
}

func validCall(call string) bool {
	call = strings.Replace(call, "/", ".", 1)
	i := strings.LastIndex(call, ".")
	return i > 0 && i < len(call)-1 && !strings.ContainsAny(call, " /")
}

func checkURL(key, raw string, p *problems) {
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add(key, fmt.Sprintf("%q is not an http(s) URL; write http://host[:port]/path", raw))
	}
}

// jsonCompatible turns YAML's map[any]any (if any) into JSON's objects.
func jsonCompatible(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			out[k] = jsonCompatible(x)
		}
		return out
	case map[any]any:
		out := map[string]any{}
		for k, x := range t {
			out[fmt.Sprint(k)] = jsonCompatible(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = jsonCompatible(x)
		}
		return out
	}
	return v
}

// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
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
	// Workers spreads every endpoint's load over this many workers of
	// the run (default 1; see workers.go): a task-level setting only.
	Workers *int `yaml:"workers,omitempty" json:"workers,omitempty"`
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
func (ep GRPCEndpoint) MetricPrefix() string { return MetricPrefix(TaskGRPC, ep.Name) }

// GRPCEndpoints returns the grpc task's endpoints by name, as Parse or
// Load resolved them; nil when the experiment has no grpc section. Each
// call returns new copies: changing them leaves the experiment as it is.
func (e *Experiment) GRPCEndpoints() []GRPCEndpoint {
	if e.grpc == nil {
		return nil
	}
	out := make([]GRPCEndpoint, len(e.grpc))
	for i, ep := range e.grpc {
		out[i] = ep.clone()
	}
	return out
}

// clone copies everything the endpoint refers to.
func (ep GRPCEndpoint) clone() GRPCEndpoint {
	ep.Traffic = ep.Traffic.clone()
	ep.ImportPaths = slices.Clone(ep.ImportPaths)
	ep.DataJSON = slices.Clone(ep.DataJSON)
	ep.Metadata = maps.Clone(ep.Metadata)
	return ep
}

// grpcRules are the grpc task's names, defaults and limits of the
// settings it shares with http.
func grpcRules() rules {
	return rules{
		countFix:       "write the number of calls to send, e.g. 200",
		defaultCount:   DefaultGRPCTotal,
		defaultRate:    0, // unlimited, as ghz
		workersKey:     "concurrency",
		workersFix:     "write the number of concurrent workers, e.g. 50",
		defaultWorkers: DefaultGRPCConcurrency,
		maxWorkers:     MaxGRPCConcurrency,
		minTimeout:     MinGRPCTimeout,
		defaultTimeout: DefaultGRPCTimeout,
	}
}

// resolve resolves the grpc task's endpoints, with relative paths
// (protoFile, importPaths, dataFile, cacert) taken from baseDir.
func (g *GRPC) resolve(baseDir string, p *problems) []GRPCEndpoint {
	return endpoints(TaskGRPC, g.GRPCSettings, g.Endpoints, p,
		func(base string, s GRPCSettings) { checkGRPC(base, s, p) },
		func(name, path string, top, own GRPCSettings) GRPCEndpoint {
			return resolveGRPC(name, path, top, own, baseDir, p)
		})
}

// shared takes total, or numRequests (the same setting by Iter8's http
// name), as the count.
func (s GRPCSettings) shared() shared {
	sh := shared{
		countKey: "total", count: s.Total, duration: s.Duration,
		rate: s.RPS, workers: s.Concurrency, timeout: s.Timeout,
		warmupCount: s.WarmupNumRequests, warmupDuration: s.WarmupDuration,
		percentiles: s.Percentiles,
	}
	if s.NumRequests != nil {
		sh.countKey, sh.count = "numRequests", s.NumRequests
	}
	return sh
}

func (s GRPCSettings) protos() []bool { return []bool{s.ProtoFile != nil, s.ProtoURL != nil} }

func (s GRPCSettings) data() []bool {
	return []bool{s.Data != nil, s.DataFile != nil, s.DataURL != nil}
}

// checkGRPC reports what is bad in one level's settings on its own.
func checkGRPC(base string, s GRPCSettings, p *problems) {
	if s.Host != "" {
		if _, port, err := net.SplitHostPort(s.Host); err != nil || port == "" {
			p.add(join(base, "host"), fmt.Sprintf("%q has no port; write host:port, e.g. routeguide.default:50051", s.Host))
		}
	}
	if s.Call != "" && !validCall(s.Call) {
		p.add(join(base, "call"), fmt.Sprintf("%q is not a method name; write package.Service.Method, e.g. routeguide.RouteGuide.GetFeature", s.Call))
	}
	exclusive(join(base, "protoFile"), []string{"protoFile", "protoURL"}, s.protos(), p)
	if s.ProtoURL != nil {
		checkDocumentURL(join(base, "protoURL"), *s.ProtoURL, p)
	}
	exclusive(join(base, "data"), []string{"data", "dataFile", "dataURL"}, s.data(), p)
	if s.DataURL != nil {
		checkDocumentURL(join(base, "dataURL"), *s.DataURL, p)
	}
	if s.Total != nil && s.NumRequests != nil {
		p.add(join(base, "numRequests"), "numRequests and total are the same setting; remove one")
	}
	grpcRules().check(base, s.shared(), p)
	if s.Connections != nil {
		checkInt(join(base, "connections"), int64(*s.Connections), 1, MaxGRPCConnections, "write the number of connections, e.g. 1", p)
	}
	if s.SkipFirst != nil {
		checkInt(join(base, "skipFirst"), *s.SkipFirst, 0, MaxCount-1, skipFirstFix, p)
	}
}

const skipFirstFix = "write how many of the first calls to leave out of the metrics, fewer than the calls sent"

// resolveGRPC merges an endpoint's settings over the top level's, fills
// defaults and checks what only the merge shows. It only reads top and
// own.
func resolveGRPC(name, path string, top, own GRPCSettings, baseDir string, p *problems) GRPCEndpoint {
	ep := GRPCEndpoint{Name: name, Path: path}
	w := wherePath(TaskGRPC, name, path)

	ep.Host = pick(own.Host, top.Host)
	if ep.Host == "" {
		p.add(join(path, "host"), "missing; write the server's host:port, e.g. routeguide.default:50051")
	}
	ep.Call = pick(own.Call, top.Call)
	if ep.Call == "" {
		p.add(join(path, "call"), "missing; write the method as package.Service.Method, e.g. routeguide.RouteGuide.GetFeature")
	}

	fromOwn, which := source(top.protos(), own.protos())
	lvl := top
	if fromOwn {
		lvl = own
	}
	switch which {
	case 0:
		ep.ProtoFile = relTo(baseDir, *lvl.ProtoFile)
	case 1:
		ep.ProtoURL = *lvl.ProtoURL
	}
	// A new slice: the settings are the spec that result.json records.
	imports := top.ImportPaths
	if own.ImportPaths != nil {
		imports = own.ImportPaths
	}
	for _, dir := range imports {
		ep.ImportPaths = append(ep.ImportPaths, relTo(baseDir, dir))
	}

	fromOwn, which = source(top.data(), own.data())
	lvl = top
	if fromOwn {
		lvl = own
	}
	switch which {
	case 0:
		b, err := json.Marshal(jsonCompatible(lvl.Data))
		if err != nil {
			p.add(w(fromOwn, "data"), fmt.Sprintf("cannot be written as JSON (%v); write the message's fields as a mapping", err))
		}
		ep.DataJSON = b
	case 1:
		ep.DataFile = relTo(baseDir, *lvl.DataFile)
	case 2:
		ep.DataURL = *lvl.DataURL
	}
	ep.Metadata = mergeMaps(top.Metadata, own.Metadata)

	ep.Traffic = grpcRules().traffic(top.shared(), own.shared())
	concurrency := DefaultGRPCConcurrency
	if c := pickPtr(own.Concurrency, top.Concurrency); c != nil {
		concurrency = *c
	}
	ep.Connections = DefaultGRPCConnections
	if c := pickPtr(own.Connections, top.Connections); c != nil {
		ep.Connections = *c
		if *c <= MaxGRPCConnections && concurrency >= 1 && *c > concurrency {
			p.add(w(own.Connections != nil, "connections"), fmt.Sprintf("%q is more than concurrency %d, and each connection needs a worker; lower connections or raise concurrency", strconv.Itoa(*c), concurrency))
		}
	}
	// A count below concurrency lowers the workers (see traffic); the
	// connections follow.
	ep.Connections = min(ep.Connections, max(ep.Workers, 1))

	ep.Insecure = true
	if in := pickPtr(own.Insecure, top.Insecure); in != nil {
		ep.Insecure = *in
	}
	if ca := pickPtr(own.CACert, top.CACert); ca != nil {
		ep.CACert = relTo(baseDir, *ca)
		if ep.Insecure {
			p.add(w(own.CACert != nil, "cacert"), "a CA file means TLS, but insecure is true (the default); add insecure: false")
		}
	}
	if s := pickPtr(own.SkipFirst, top.SkipFirst); s != nil {
		ep.SkipFirst = *s
		if *s >= 0 && ep.Count > 0 && *s >= ep.Count {
			p.add(w(own.SkipFirst != nil, "skipFirst"), outside(strconv.FormatInt(*s, 10), "0", strconv.FormatInt(ep.Count-1, 10), skipFirstFix))
		}
	}
	return ep
}

func validCall(call string) bool {
	call = strings.Replace(call, "/", ".", 1)
	i := strings.LastIndex(call, ".")
	return i > 0 && i < len(call)-1 && !strings.ContainsAny(call, " /")
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

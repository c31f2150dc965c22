// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/autox-tekton/autox/internal/badinput"
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
	// MaxYAMLValues bounds the values (scalars, lists, mappings and keys)
	// of a YAML input once its aliases (*name) are expanded: a
	// "billion laughs" document of a few lines would otherwise expand to
	// more than memory holds. A million is more than any experiment or
	// values file needs; a large gRPC message belongs in dataFile.
	MaxYAMLValues = 1_000_000
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
		p.add(key, outside(FormatDuration(d), FormatDuration(lo), FormatDuration(hi), fix))
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

// FormatDuration writes a duration the way people do: 24h, not 24h0m0s.
func FormatDuration(d time.Duration) string {
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

// parseYAML reads YAML text into its node tree and checks that its aliases
// do not expand it past MaxYAMLValues values. The error is a badinput.FieldError
// (the path where the limit is passed, or none for a syntax error) whose
// message names the fix.
func parseYAML(data []byte) (*yaml.Node, *badinput.FieldError) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &badinput.FieldError{Message: yamlMessage(err)}
	}
	if fe := checkExpansion(&doc); fe != nil {
		return nil, fe
	}
	return &doc, nil
}

// UnmarshalYAML decodes YAML text into v (as yaml.Unmarshal does) within
// MaxYAMLValues values once aliases are expanded. Its error is one line
// that names the path, when there is one, and the fix.
func UnmarshalYAML(data []byte, v any) error {
	doc, fe := parseYAML(data)
	if fe != nil {
		return fe
	}
	if len(doc.Content) == 0 {
		return nil
	}
	if err := doc.Content[0].Decode(v); err != nil {
		return &badinput.FieldError{Message: yamlMessage(err)}
	}
	return nil
}

// yamlMessage is a yaml error for people: a syntax error names its line;
// yaml's own alias guard, which refuses a document whose aliases make up
// nearly all of it once expanded, says what to do.
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if strings.Contains(msg, "excessive aliasing") {
		return "the aliases (*name) make up nearly all of the YAML once expanded, which YAML decoding refuses as a \"billion laughs\" document; write the values out, or use fewer aliases"
	}
	msg = strings.ReplaceAll(msg, "\n", "; ")
	return "invalid YAML: " + msg + "; fix the syntax at that line"
}

// checkExpansion counts the values of doc as decoding sees them, each
// alias as the values it stands for, and reports the path where the count
// passes MaxYAMLValues.
func checkExpansion(doc *yaml.Node) *badinput.FieldError {
	const over = MaxYAMLValues + 1
	sizes := map[*yaml.Node]int{}
	// size is the count of n's values, aliases expanded, at most over.
	var size func(n *yaml.Node) int
	size = func(n *yaml.Node) int {
		if n.Kind == yaml.AliasNode {
			if n.Alias == nil {
				return 1
			}
			return size(n.Alias)
		}
		if s, ok := sizes[n]; ok {
			return s
		}
		sizes[n] = over // an anchor that contains itself counts as too many
		total := 1
		for _, c := range n.Content {
			if total += size(c); total >= over {
				total = over
				break
			}
		}
		sizes[n] = total
		return total
	}
	total := 0
	var walk func(n *yaml.Node, path string) *badinput.FieldError
	walk = func(n *yaml.Node, path string) *badinput.FieldError {
		if n.Kind == yaml.AliasNode {
			if total += size(n); total > MaxYAMLValues {
				return &badinput.FieldError{Path: path, Message: fmt.Sprintf("the alias *%s makes the YAML more than %d values once aliases are expanded; write the values out, or use fewer aliases", n.Value, MaxYAMLValues)}
			}
			return nil
		}
		if total++; total > MaxYAMLValues {
			return &badinput.FieldError{Path: path, Message: fmt.Sprintf("the YAML has more than %d values; write a smaller one (a large gRPC message belongs in dataFile)", MaxYAMLValues)}
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if fe := walk(n.Content[i], path); fe != nil {
					return fe
				}
				if fe := walk(n.Content[i+1], join(path, n.Content[i].Value)); fe != nil {
					return fe
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if fe := walk(c, fmt.Sprintf("%s[%d]", path, i)); fe != nil {
					return fe
				}
			}
		default:
			for _, c := range n.Content {
				if fe := walk(c, path); fe != nil {
					return fe
				}
			}
		}
		return nil
	}
	return walk(doc, "")
}

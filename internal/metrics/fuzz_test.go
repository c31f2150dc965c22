// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// seedFile is a metrics file as a load step writes it.
func seedFile(f *testing.F) []byte {
	e := rated(endpoint("http", "get", 1, 2, 3, 500))
	file := &File{Version: FileVersion, Task: "http", StartTime: time.Unix(100, 0).UTC(), EndTime: time.Unix(200, 0).UTC(), Endpoints: []*Endpoint{e}}
	if err := e.encode(); err != nil {
		f.Fatal(err)
	}
	b, err := json.Marshal(file)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzParseFile: whatever a metrics file holds, it is read or refused in
// one line, never a panic or a histogram of another geometry; a file read
// gives its values and bars, and written again reads the same.
func FuzzParseFile(f *testing.F) {
	good := seedFile(f)
	f.Add(good)
	f.Add([]byte(`{"version":"autox.dev/metrics/v1","task":"http","endpoints":[{"task":"http","latency":"","percentiles":[-1,1e308]}]}`))
	f.Add([]byte(`{"version":"autox.dev/metrics/v0"}`))
	f.Add([]byte(`{"version":"autox.dev/metrics/v1","endpoints":[null]}`))
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := parseFile(data, "fuzz.metrics.json")
		if err != nil {
			if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("an error that is not one line: %q", msg)
			}
			return
		}
		for _, e := range file.Endpoints {
			geometry(t, e.Latency)
			if e.ServiceTime != nil {
				geometry(t, e.ServiceTime)
			}
			e.Values()
			e.Buckets(bars)
		}
		first := encodeAll(t, file)
		again, err := parseFile(first, "again.metrics.json")
		if err != nil {
			t.Fatalf("written again, it is refused: %v", err)
		}
		if diff := cmp.Diff(string(first), string(encodeAll(t, again))); diff != "" {
			t.Fatalf("written again, it reads differently (-first +again):\n%s", diff)
		}
	})
}

// bars is as many bars as a report draws (result.HistogramBars).
const bars = 20

func encodeAll(t *testing.T, file *File) []byte {
	t.Helper()
	for _, e := range file.Endpoints {
		if err := e.encode(); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// geometry fails t when h is not NewHistogram's.
func geometry(t *testing.T, h interface {
	LowestTrackableValue() int64
	HighestTrackableValue() int64
	SignificantFigures() int64
}) {
	t.Helper()
	if h.LowestTrackableValue() != lowestMicros || h.HighestTrackableValue() != highestMicros || h.SignificantFigures() != sigFigs {
		t.Fatalf("a histogram of %d..%d at %d digits", h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures())
	}
}

// FuzzDecodeHDR: whatever the text, DecodeHDR answers NewHistogram's
// geometry or an error, never a panic or a large allocation (a header
// asking for 1..MaxInt64 at 5 digits is refused before it is made); a
// histogram it reads, encoded again, reads the same.
func FuzzDecodeHDR(f *testing.F) {
	h := NewHistogram()
	for _, ms := range []int{1, 2, 3, 500, 3_600_000} {
		RecordLatency(h, time.Duration(ms)*time.Millisecond)
	}
	s, err := encodeHDR(h)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(s)
	empty, _ := encodeHDR(NewHistogram())
	f.Add(empty)
	f.Add(s[:len(s)/2])
	f.Add("")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := DecodeHDR(s)
		if err != nil {
			return
		}
		geometry(t, h)
		again, err := encodeHDR(h)
		if err != nil {
			t.Fatal(err)
		}
		h2, err := DecodeHDR(again)
		if err != nil {
			t.Fatalf("encoded again, it is refused: %v", err)
		}
		if diff := cmp.Diff(h.Export(), h2.Export()); diff != "" {
			t.Fatalf("encoded again, it reads differently (-first +again):\n%s", diff)
		}
	})
}

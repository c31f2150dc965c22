// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"encoding/base64"
	"math"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/google/go-cmp/cmp"
)

// TestDecodeHDRRefusesOtherGeometries: a histogram whose header asks for
// another range or precision is refused before its counts are made (1..
// MaxInt64 at 5 digits would take 48 MB per histogram).
func TestDecodeHDRRefusesOtherGeometries(t *testing.T) {
	encode := func(h *hdrhistogram.Histogram) string {
		b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	for _, tc := range []struct {
		name, encoded, want string
	}{
		{"autox's", encode(NewHistogram()), ""},
		{"1..MaxInt64 at 5 digits", encode(hdrhistogram.New(1, math.MaxInt64, 5)), "histogram of 1..9223372036854775807 at 5 digits, not autox's 1..3600000000 µs at 3"},
		{"another precision", encode(hdrhistogram.New(1, highestMicros, 2)), "histogram of 1..3600000000 at 2 digits, not autox's 1..3600000000 µs at 3"},
		{"too short", base64.StdEncoding.EncodeToString([]byte("AAAA")), "not a histogram: 3 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeHDR(tc.encoded)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseFileRefusesANullEndpoint: once a panic.
func TestParseFileRefusesANullEndpoint(t *testing.T) {
	_, err := parseFile([]byte(`{"version":"autox.dev/metrics/v1","endpoints":[null]}`), "http.metrics.json")
	want := "http.metrics.json: endpoints[0] is null, which no load step writes; run the load step again"
	if err == nil || err.Error() != want {
		t.Errorf("parseFile = %v, want %s", err, want)
	}
}

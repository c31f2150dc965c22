// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package httpload

import (
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseHeyReport(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rated   bool
		out     string
		want    heyReport
		wantErr string
	}{
		{
			name:    "closed loop",
			out:     "numRes 3\nerrorDist {\"Get \\\"http://a/\\\": EOF\":1}\nlats [0.001,2.5e-05,0.3]\nstatusCodes [200,503]\n\n",
			wantErr: "lists of [3] entries for 2 status codes",
		},
		{
			name: "closed loop, every list whole",
			out:  "numRes 3\nerrorDist {\"Get \\\"http://a/\\\": EOF\":1}\nlats [0.001,2.5e-05]\nstatusCodes [200,503]\n\n",
			want: heyReport{NumRes: 3, ErrorDist: map[string]int64{`Get "http://a/": EOF`: 1}, Lats: []float64{0.001, 2.5e-05}, StatusCodes: []int{200, 503}},
		},
		{
			name: "nothing answered",
			out:  "numRes 2\nerrorDist {\"dial tcp: refused\":2}\nlats []\nstatusCodes []\n",
			want: heyReport{NumRes: 2, ErrorDist: map[string]int64{"dial tcp: refused": 2}},
		},
		{
			name:  "rated",
			rated: true,
			out:   "numRes 1\nerrorDist {}\nconn [0.0001]\nreq [1e-06]\ndelay [0.002]\nres [3e-06]\nstatusCodes [200]\noffsets [12.5]\n",
			want: heyReport{NumRes: 1, ErrorDist: map[string]int64{}, Conn: []float64{0.0001}, Req: []float64{1e-06}, Delay: []float64{0.002},
				Res: []float64{3e-06}, StatusCodes: []int{200}, Offsets: []float64{12.5}, rated: true},
		},
		{name: "empty: every request failed before hey printed", out: "", wantErr: "0 of its 4 lines"},
		{name: "a line missing", out: "numRes 1\nerrorDist {}\nstatusCodes [200]\n", wantErr: `line 3 is "statusCodes [200]", want lats`},
		{name: "not a number", out: "numRes 1\nerrorDist {}\nlats [0.1,NaN]\nstatusCodes [200,200]\n", wantErr: `lats: entry 2: "NaN" is not a finite number`},
		{name: "not a list", out: "numRes 1\nerrorDist {}\nlats 0.1\nstatusCodes [200]\n", wantErr: `lats: "0.1" is not a list`},
		{name: "a line too many", out: "numRes 1\nerrorDist {}\nlats []\nstatusCodes []\nlats []\n", wantErr: `line 5 is "lats []", want statusCodes`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := heyReport{rated: tc.rated}
			err := got.parse([]byte(tc.out))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parse = %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(heyReport{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("parse (-want +got):\n%s", diff)
			}
		})
	}
}

// BenchmarkParseHeyReport reads a batch of 3125 closed-loop results.
func BenchmarkParseHeyReport(b *testing.B) {
	var out strings.Builder
	out.WriteString("numRes 3125\nerrorDist {}\nlats [")
	for i := range 3125 {
		if i > 0 {
			out.WriteString(",")
		}
		out.WriteString("0.000312345678")
	}
	out.WriteString("]\nstatusCodes [" + strings.TrimSuffix(strings.Repeat("200,", 3125), ",") + "]\n")
	data := []byte(out.String())
	b.ReportAllocs()
	for b.Loop() {
		var r heyReport
		if err := r.parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestServerTextStaysInItsLine: a server whose answer breaks HTTP, with
// what looks like lines of hey's report in it, gets its bytes into an
// error message (Go quotes them); that message is one JSON string on the
// errorDist line, and the report reads back as sent: every request an
// error, no status, nothing injected.
func TestServerTextStaysInItsLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				c.Read(buf)
				c.Write([]byte("HTTP/1.1 200 OK\r\nX: a\nstatusCodes [999]\nlats [0.5]\r\n\r\n"))
			}()
		}
	}()
	eps := endpoints(t, "tasks: [http]\nhttp: {url: http://"+ln.Addr().String()+"/, numRequests: 6, connections: 2}\n")
	f := run(t, eps)
	e := f.Endpoints[0]
	var total int64
	for msg, n := range e.Errors {
		total += n
		t.Logf("%d × %q", n, msg)
		if !strings.Contains(msg, "malformed") || !strings.Contains(msg, "statusCodes [999]") {
			t.Errorf("error %q, want Go's malformed-response error quoting the server's line", msg)
		}
	}
	if e.RequestCount != 6 || e.ErrorCount != 6 || total != 6 || len(e.StatusCodes) != 0 {
		t.Errorf("%d requests, %d errors (%d in messages), status codes %v; want 6 requests, all 6 errors, no status",
			e.RequestCount, e.ErrorCount, total, e.StatusCodes)
	}
}

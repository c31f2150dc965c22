// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package httpload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// heyOutput selects from hey's report only fields that are never NaN (its
// {{ jsonify . }} prints nothing when every request fails), and only what
// is needed, one field per line: "name value". The lists are read back
// by parseList, not encoding/json: decoding them was the largest part of
// what this adapter adds to hey's own work (about 2% of a closed-loop
// load's CPU). In a closed loop a response's latency is hey's Lats, from
// just before it asks RequestFunc for the request (which never waits
// there) to the end of the body, as the hey CLI reports it.
const heyOutput = "numRes {{ .NumRes }}\nerrorDist {{ jsonify .ErrorDist }}\n" +
	"lats {{ jsonify .Lats }}\nstatusCodes {{ jsonify .StatusCodes }}\n"

// heyOutputRated is heyOutput at a fixed rate. There the Gate makes a
// request wait in RequestFunc for its turn, so Lats would carry the
// pacing (at 8 requests/s on 4 connections, 500 ms each): the service
// time is the sum of hey's phases, which start when the request asks for
// a connection, after the Gate: ConnLats (dial, DNS included, 0 on a
// reused connection), ReqLats (writing the request), DelayLats (waiting
// for the first byte) and ResLats (reading the body). The offsets pair
// each response with its send (see heyStart).
const heyOutputRated = "numRes {{ .NumRes }}\nerrorDist {{ jsonify .ErrorDist }}\n" +
	"conn {{ jsonify .ConnLats }}\nreq {{ jsonify .ReqLats }}\ndelay {{ jsonify .DelayLats }}\nres {{ jsonify .ResLats }}\n" +
	"statusCodes {{ jsonify .StatusCodes }}\noffsets {{ jsonify .Offsets }}\n"

// heyReport is heyOutput or heyOutputRated read back.
type heyReport struct {
	NumRes    int64
	ErrorDist map[string]int64
	// Each response's latency (heyOutput), or its phases
	// (heyOutputRated), in seconds, responses only, in one order.
	Lats, Conn, Req, Delay, Res []float64
	StatusCodes                 []int
	// Offsets (with heyOutputRated) is when each response's request
	// started, seconds from heyStart.
	Offsets []float64
	// rated is true for heyOutputRated.
	rated bool
}

// parse reads hey's output of heyOutput (or heyOutputRated when r.rated)
// and checks that every list has one entry per response.
func (r *heyReport) parse(out []byte) error {
	lists := map[string]*[]float64{"lats": &r.Lats}
	want := []string{"numRes", "errorDist", "lats", "statusCodes"}
	if r.rated {
		lists = map[string]*[]float64{"conn": &r.Conn, "req": &r.Req, "delay": &r.Delay, "res": &r.Res, "offsets": &r.Offsets}
		want = []string{"numRes", "errorDist", "conn", "req", "delay", "res", "statusCodes", "offsets"}
	}
	seen := 0
	for line := range bytes.Lines(out) {
		line = bytes.TrimRight(line, "\n")
		if len(line) == 0 {
			continue
		}
		name, value, _ := bytes.Cut(line, []byte(" "))
		if seen >= len(want) || string(name) != want[seen] {
			return fmt.Errorf("reading hey's report: line %d is %.40q, want %s", seen+1, line, want[min(seen, len(want)-1)])
		}
		seen++
		var err error
		switch string(name) {
		case "numRes":
			r.NumRes, err = strconv.ParseInt(string(value), 10, 64)
		case "errorDist":
			err = json.Unmarshal(value, &r.ErrorDist)
		case "statusCodes":
			r.StatusCodes, err = parseList(value, func(s string) (int, error) { return strconv.Atoi(s) })
		default:
			*lists[string(name)], err = parseList(value, parseSeconds)
		}
		if err != nil {
			return fmt.Errorf("reading hey's report: %s: %w", name, err)
		}
	}
	if seen != len(want) {
		return fmt.Errorf("reading hey's report: %d of its %d lines", seen, len(want))
	}
	return r.check()
}

// parseList reads a JSON list of numbers ("[1,0.25,3e-05]") as jsonify
// prints them.
func parseList[T any](b []byte, parse func(string) (T, error)) ([]T, error) {
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return nil, fmt.Errorf("%.20q is not a list", b)
	}
	if len(b) == 2 {
		return nil, nil
	}
	// One string for the list, so that its entries are slices of it.
	s := string(b[1 : len(b)-1])
	dst := make([]T, 0, strings.Count(s, ",")+1)
	for len(s) > 0 {
		tok, rest, _ := strings.Cut(s, ",")
		v, err := parse(tok)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", len(dst)+1, err)
		}
		dst = append(dst, v)
		s = rest
	}
	return dst, nil
}

// parseSeconds reads a finite number, as JSON has them.
func parseSeconds(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
		err = fmt.Errorf("%q is not a finite number", s)
	}
	return v, err
}

// latency is response i's service time.
func (r *heyReport) latency(i int) time.Duration {
	sec := 0.0
	if r.rated {
		sec = r.Conn[i] + r.Req[i] + r.Delay[i] + r.Res[i]
	} else {
		sec = r.Lats[i]
	}
	return time.Duration(sec * float64(time.Second))
}

// check says whether every list has one entry per response.
func (r *heyReport) check() error {
	n := len(r.StatusCodes)
	lens := []int{len(r.Lats)}
	if r.rated {
		lens = []int{len(r.Conn), len(r.Req), len(r.Delay), len(r.Res), len(r.Offsets)}
	}
	for _, l := range lens {
		if l != n {
			return fmt.Errorf("reading hey's report: lists of %v entries for %d status codes", lens, n)
		}
	}
	return nil
}

// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Verdicts of a row.
const (
	// Pass: the ratio is within the goal.
	Pass = "pass"
	// Miss: measured, outside the goal (not a failure of the bench).
	Miss = "miss"
	// Info: a row without a goal, shown for reference.
	Info = "info"
	// NotMeasured: this run cannot measure it (the e2e latency without a
	// cluster log); not a failure of the bench either.
	NotMeasured = "not measured"
	// Failed: the measurement failed; the bench exits 1.
	Failed = "error"
)

// Goal is the range a row's ratio should fall in; a nil bound is open.
type Goal struct {
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
}

// AtLeast is the goal ratio >= v.
func AtLeast(v float64) Goal { return Goal{Min: &v} }

// AtMost is the goal ratio <= v.
func AtMost(v float64) Goal { return Goal{Max: &v} }

// Within is the goal lo <= ratio <= hi.
func Within(lo, hi float64) Goal { return Goal{Min: &lo, Max: &hi} }

// Met reports whether ratio is within the goal.
func (g Goal) Met(ratio float64) bool {
	return (g.Min == nil || ratio >= *g.Min) && (g.Max == nil || ratio <= *g.Max)
}

func (g Goal) String() string {
	switch {
	case g.Min != nil && g.Max != nil:
		return fmt.Sprintf("%.2f..%.2f", *g.Min, *g.Max)
	case g.Min != nil:
		return fmt.Sprintf(">= %.2f", *g.Min)
	case g.Max != nil:
		return fmt.Sprintf("<= %.2f", *g.Max)
	}
	return "-"
}

// Figure is one measured (or reference) value.
type Figure struct {
	// Label says whose figure it is: "cmd/http", "hey", "stall-implied".
	Label string  `json:"label"`
	Value float64 `json:"value"`
	// Unit of Value: "requests/s", "s", "MB", "allocs/request", ...
	Unit string `json:"unit"`
}

func (f *Figure) String() string {
	if f == nil {
		return "-"
	}
	return f.Label + " " + formatValue(f.Value) + " " + f.Unit
}

// formatValue keeps three significant digits below 1000 and whole
// numbers above.
func formatValue(v float64) string {
	if v >= 1000 || v <= -1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// Row is one line of the suite: ours against a peer (another tool, a
// formula, a goal), as the ratio ours / peer.
type Row struct {
	Name string  `json:"name"`
	Ours *Figure `json:"ours,omitempty"`
	Peer *Figure `json:"peer,omitempty"`
	// Beside are figures shown next to the row and not part of the ratio
	// (hey's p99 beside ours on the stalling server).
	Beside []Figure `json:"beside,omitempty"`
	// Ratio is Ours / Peer; nil when the row was not measured.
	Ratio   *float64 `json:"ratio"`
	Goal    Goal     `json:"goal"`
	Verdict string   `json:"verdict"`
	// Notes say how it was measured, where a figure comes from, or why
	// it is missing.
	Notes []string `json:"notes,omitempty"`
}

// measured is a row with ours, peer and their ratio, judged by goal.
func measured(name string, ours, peer Figure, goal Goal, notes ...string) Row {
	r := ours.Value / peer.Value
	v := Miss
	switch {
	case goal.Min == nil && goal.Max == nil:
		v = Info
	case goal.Met(r):
		v = Pass
	}
	return Row{Name: name, Ours: &ours, Peer: &peer, Ratio: &r, Goal: goal, Verdict: v, Notes: notes}
}

// failed is a row whose measurement failed.
func failed(name string, goal Goal, err error) Row {
	return Row{Name: name, Goal: goal, Verdict: Failed, Notes: []string{err.Error()}}
}

// Report is what the suite writes as JSON.
type Report struct {
	// Date is when the suite ended, RFC 3339 in UTC.
	Date string `json:"date"`
	// ServerCore and ClientCore are the CPUs the servers and the load
	// generators were pinned to (taskset -c).
	ServerCore string `json:"serverCore"`
	ClientCore string `json:"clientCore"`
	// Machine is what the suite ran on.
	Machine Machine `json:"machine"`
	Rows    []Row   `json:"rows"`
}

// NewReport stamps rows with the time and the machine.
func NewReport(at time.Time, m Machine, serverCore, clientCore string, rows []Row) Report {
	return Report{Date: at.UTC().Format(time.RFC3339), ServerCore: serverCore, ClientCore: clientCore, Machine: m, Rows: rows}
}

// Failed reports whether any row could not be measured.
func (r Report) Failed() bool {
	for _, row := range r.Rows {
		if row.Verdict == Failed {
			return true
		}
	}
	return false
}

// WriteJSON writes the report, indented.
func (r Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable writes the rows as a table: row, ours, peer, ratio (ours /
// peer), goal (of the ratio), verdict; then each row's notes by number,
// figures beside a row with their ratio to its peer.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\trow\tours\tpeer\tratio\tgoal\tverdict")
	var notes []string
	for i, row := range r.Rows {
		ratio := "-"
		if row.Ratio != nil {
			ratio = fmt.Sprintf("%.3f", *row.Ratio)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, row.Name, row.Ours, row.Peer, ratio, row.Goal, row.Verdict)
		for _, b := range row.Beside {
			note := fmt.Sprintf("[%d] beside: %s", i+1, b.String())
			if row.Peer != nil && row.Peer.Value != 0 && row.Peer.Unit == b.Unit {
				note += fmt.Sprintf(", ratio %.3f", b.Value/row.Peer.Value)
			}
			notes = append(notes, note)
		}
		for _, n := range row.Notes {
			notes = append(notes, fmt.Sprintf("[%d] %s", i+1, n))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(notes) > 0 {
		_, err := fmt.Fprintf(w, "\n%s\n", strings.Join(notes, "\n"))
		return err
	}
	return nil
}

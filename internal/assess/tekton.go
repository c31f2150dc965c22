// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package assess

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/autox-tekton/autox/internal/atomicfile"
	"github.com/autox-tekton/autox/internal/result"
)

// SummaryLimit bounds the summary result, measured as Tekton stores it:
// JSON-encoded (where "<" takes 6 bytes and a newline 2) in the step's
// termination message, which holds every result of the TaskRun in 4096
// bytes. The rest of that message (slos-satisfied, keys, the step's start
// time) takes well under 1000 bytes.
const SummaryLimit = 3000

// Summary is one line per SLO, "PASS" or "FAIL", its condition and the
// observed value, then one "FAILED" line per task that did not complete.
// Lines that would pass SummaryLimit are left out, and a last line says
// how many and where the whole result is kept.
func Summary(r *result.Result) string {
	var lines []string
	for _, v := range r.SLOs {
		verdict := "FAIL"
		if v.Satisfied {
			verdict = "PASS"
		}
		observed := "unavailable: " + v.Unavailable
		if v.Value != nil {
			observed = "observed " + strconv.FormatFloat(*v.Value, 'f', 3, 64)
		}
		lines = append(lines, fmt.Sprintf("%s %s (%s)", verdict, v.Condition(r.Units(v.Metric)), observed))
	}
	if len(r.SLOs) == 0 {
		lines = append(lines, "no SLOs given")
	}
	for _, f := range r.FailureReasons {
		lines = append(lines, "FAILED "+f)
	}
	for kept := len(lines); ; kept-- {
		s := strings.Join(lines[:kept], "\n")
		if kept < len(lines) {
			s += fmt.Sprintf("\n... %d more lines; the step's log and result.json have them all", len(lines)-kept)
		}
		if encodedLen(s) <= SummaryLimit || kept == 0 {
			return s
		}
	}
}

func encodedLen(s string) int {
	b, _ := json.Marshal(s) // a string always encodes
	return len(b)
}

// ResultFiles are where Tekton collects the step's results; "" writes
// none.
type ResultFiles struct {
	// SLOsSatisfied receives "true" or "false".
	SLOsSatisfied string
	// Summary receives Summary(r).
	Summary string
}

// Write writes r's results, each exactly (no newline: Tekton takes the
// file's bytes as the value).
func (f ResultFiles) Write(r *result.Result) error {
	for _, w := range []struct{ path, value string }{
		{f.SLOsSatisfied, strconv.FormatBool(r.SLOsSatisfied)},
		{f.Summary, Summary(r)},
	} {
		if w.path == "" {
			continue
		}
		if err := atomicfile.Write(w.path, []byte(w.value)); err != nil {
			return fmt.Errorf("writing a Tekton result: %w", err)
		}
	}
	return nil
}

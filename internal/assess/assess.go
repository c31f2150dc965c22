// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package assess reads every metrics file of an experiment, checks the
// SLOs, writes the result (result.json), the text report (report.txt) and
// the HTML report (report.html), and prints the report asked for.
package assess

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/autox-tekton/autox/internal/atomicfile"
	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/internal/outcome"
	"github.com/autox-tekton/autox/internal/regress"
	"github.com/autox-tekton/autox/internal/report"
	"github.com/autox-tekton/autox/internal/result"
)

// Output formats.
const (
	Text = "text"
	JSON = "json"
	HTML = "html"
)

// Files assess writes in the experiment folder.
const (
	TextFile = "report.txt"
	HTMLFile = "report.html"
)

// Config is one assessment.
type Config struct {
	Experiment *experiment.Experiment
	// Dir holds the metrics files and receives the result and reports.
	Dir string
	// Output is what goes to stdout: text, json or html.
	Output string
	// FailOnViolation makes a violated SLO an error (exit 1); without it
	// violations are reported as warnings and the run passes.
	FailOnViolation bool
	// Baseline is what assess.regression is judged against; nil when no
	// source of baselines was given.
	Baseline *Baseline
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Validate checks the flags; problems are bad input.
func (c *Config) Validate() error {
	switch c.Output {
	case Text, JSON, HTML:
	default:
		return badinput.Field("-o", fmt.Sprintf("%q is not an output format; write text, json or html", c.Output))
	}
	if c.Dir == "" {
		return badinput.Field("--dir", "missing; name the folder that holds the metrics files")
	}
	return nil
}

// Run assesses the experiment. stdout gets the report in the chosen
// format; SLO breaches go there too in text mode (to stderr otherwise) as
// ::error:: lines, or ::warning:: lines when violations are allowed.
// The error is outcome.ErrExperimentFailed or outcome.ErrSLOsViolated when
// the experiment did not pass (a regression against the baseline counts as
// a violated SLO: exit 1).
func Run(cfg Config, stdout, stderr io.Writer) (*result.Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	files, err := metrics.ReadDir(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", outcome.ErrExperimentFailed, err)
	}
	r := result.Build(cfg.Experiment, files, now())
	if a := cfg.Experiment.Assess; a != nil && a.Regression != nil {
		b := cfg.Baseline
		if b == nil {
			b = &Baseline{Note: "no baseline: none was given (in a run, autox keeps one per group and spec; autox run takes --baseline result.json)"}
		}
		regress.Against(a.Regression, r, b.Result, b.Of, b.Note)
	}

	var text, page bytes.Buffer
	if err := report.Text(&text, r); err != nil {
		return r, err
	}
	if err := report.HTML(&page, r); err != nil {
		return r, err
	}
	// The result goes last: its presence says the reports are complete.
	if err := atomicfile.Write(filepath.Join(cfg.Dir, TextFile), text.Bytes()); err != nil {
		return r, err
	}
	if err := atomicfile.Write(filepath.Join(cfg.Dir, HTMLFile), page.Bytes()); err != nil {
		return r, err
	}
	if err := result.Write(filepath.Join(cfg.Dir, result.FileName), r); err != nil {
		return r, err
	}

	annotations := stderr
	switch cfg.Output {
	case Text:
		_, err = stdout.Write(text.Bytes())
		annotations = stdout
	case HTML:
		_, err = stdout.Write(page.Bytes())
	case JSON:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	}
	if err != nil {
		return r, fmt.Errorf("writing the report: %w", err)
	}
	return r, Verdict(r, cfg.FailOnViolation, annotations)
}

// Verdict prints the annotations for failures and breaches and returns the
// outcome error of r.
func Verdict(r *result.Result, failOnViolation bool, w io.Writer) error {
	var b strings.Builder
	if len(report.Breaches(r)) > 0 || r.Failure {
		b.WriteString("\n")
	}
	for _, f := range r.FailureReasons {
		b.WriteString("::error::experiment failed: " + f + "\n")
	}
	prefix := "::error::"
	if !failOnViolation {
		prefix = "::warning::"
	}
	for _, l := range report.Breaches(r) {
		b.WriteString(prefix + l + "\n")
	}
	io.WriteString(w, b.String())
	switch {
	case r.Failure:
		return outcome.ErrExperimentFailed
	case !r.SLOsSatisfied && failOnViolation:
		return outcome.ErrSLOsViolated
	case r.Regressed && failOnViolation:
		return fmt.Errorf("%w: slower than the baseline", outcome.ErrSLOsViolated)
	}
	return nil
}

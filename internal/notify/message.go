// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/autox-tekton/autox/internal/assess"
	"github.com/autox-tekton/autox/internal/report"
	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/internal/slo"
	"github.com/autox-tekton/autox/internal/store"
)

// Message is what a notification says: the data of a body template
// (key template of the Secret), e.g. {"text": {{json .Text}}}. Every field
// is set; "" means unknown or none.
type Message struct {
	// Group, Spec and Version are the run's labels autox.dev/group,
	// autox.dev/spec and autox.dev/version (e.g. httpbin, iter8, 2.0.0).
	Group, Spec, Version string
	// Verdict is PASS, FAIL, CANCELLED or ERROR.
	Verdict string
	// Why says the verdict in a few words, e.g. "2 of 6 SLOs do not hold".
	Why string
	// FailingSLOs are the SLOs that do not hold, in the result's order.
	FailingSLOs []FailingSLO
	// Baseline is the version the run's latency was judged against
	// (assess.regression), e.g. 1.0.0; "" when none was: no
	// assess.regression (RegressionNote "") or no baseline yet
	// (RegressionNote says why).
	Baseline       string
	RegressionNote string
	// Regressions are the metrics judged against the baseline, in the
	// result's order; Regressed is true when one is slower beyond its
	// limit.
	Regressions []Regression
	Regressed   bool
	// Problems are further lines: a task that did not complete, a result
	// that is missing.
	Problems []string
	// Run, Namespace and UID name the PipelineRun.
	Run, Namespace, UID string
	// DashboardURL links to the run in the Tekton Dashboard; "" when no
	// dashboard-url is configured.
	DashboardURL string
	// Summary is the experiment's summary, as its Tekton result has it
	// (one line per SLO); "" without a result.
	Summary string
	// TaskStatus, TaskReason and TasksStatus are Tekton's
	// $(tasks.experiment.status), $(tasks.experiment.reason) and
	// $(tasks.status).
	TaskStatus, TaskReason, TasksStatus string
	// ResultFound is true when the result ConfigMap was read.
	ResultFound bool
	// Text is the default message as plain text, lines ending in "\n".
	Text string
}

// FailingSLO is one SLO that does not hold.
type FailingSLO struct {
	// Metric is the Iter8 metric name, e.g. http-get/latency-mean.
	Metric string
	// Units are the metric's ("msec" or "").
	Units string
	// Bound is "upper" (value <= limit) or "lower" (value >= limit).
	Bound string
	Limit float64
	// Observed is the measured value; nil when there is none (see
	// Unavailable).
	Observed *float64
	// Unavailable says why there is no value.
	Unavailable string
	// Condition is the SLO as the report writes it,
	// "http-get/latency-mean (msec) <= 50".
	Condition string
	// Text is the condition and what was observed,
	// "http-get/latency-mean (msec) <= 50: observed 73.210".
	Text string
}

// Regression is one metric judged against the baseline: the result's
// verdict (Metric, MaxRatio, Baseline and Candidate in msec, Ratio, P,
// Regressed, Unavailable) and Text, the verdict as the message writes it,
// "http-get/latency-p99 is 37.15 msec, 2.28x baseline 1.0.0's 16.29 msec
// (limit 1.10x, p < 1e-300)".
type Regression struct {
	result.RegressionVerdict
	Text string
}

// Headline is the message's first line, plain.
func (m Message) Headline() string {
	return fmt.Sprintf("%s %s: %s", m.Verdict, m.subject(), m.Why)
}

// subject is the group and version, with the spec, e.g.
// "httpbin 2.0.0 (spec iter8)"; the run's name when none is known.
func (m Message) subject() string {
	var parts []string
	for _, p := range []string{m.Group, m.Version} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		parts = append(parts, m.Run)
	}
	s := strings.Join(parts, " ")
	if m.Spec != "" {
		s += " (spec " + m.Spec + ")"
	}
	return s
}

// stored is what was learnt of the result ConfigMap.
type stored struct {
	result *result.Result
	// missing says why there is no result ("" when there is one).
	missing string
	// warning is for the log: the ConfigMap exists but could not be used.
	warning string
}

// readResult reads the run's result ConfigMap. Only a stop is an error:
// a result that is missing or unreadable makes a message without it.
func readResult(ctx context.Context, cms corev1client.ConfigMapsGetter, run Run) (stored, error) {
	where := fmt.Sprintf("ConfigMap %s/%s", run.Namespace, run.Name)
	cm, err := cms.ConfigMaps(run.Namespace).Get(ctx, run.Name, metav1.GetOptions{})
	switch {
	case ctx.Err() != nil:
		return stored{}, fmt.Errorf("stopped (%w) while reading the result %s; nothing was sent", context.Cause(ctx), where)
	case apierrors.IsNotFound(err):
		return stored{missing: fmt.Sprintf("no result: no %s (the experiment ended before assess stored one)", where)}, nil
	case err != nil:
		why := fmt.Sprintf("the result %s could not be read: %v", where, err)
		return stored{missing: "no result: " + why, warning: why + "; the message goes without the failing SLOs"}, nil
	}
	// Only the run's own result counts: a ConfigMap of that name that the
	// run does not own (a forged one, one left by another run of that
	// name) is not read.
	if run.UID != "" {
		if err := store.CheckOwner(cm, store.Owner{Kind: store.KindPipelineRun, Name: run.Name, UID: run.UID}); err != nil {
			why := err.Error()
			return stored{missing: "no result: " + why, warning: why + "; the message goes without it"}, nil
		}
	}
	var r result.Result
	err = json.Unmarshal([]byte(cm.Data[store.DataKey]), &r)
	if err == nil && r.Version != result.Version {
		err = fmt.Errorf("its version is %q, this autox reads %q", r.Version, result.Version)
	}
	if err != nil {
		why := fmt.Sprintf("the result %s (key %s) is not an autox result: %v", where, store.DataKey, err)
		return stored{missing: "no result: " + why, warning: why + "; the message goes without it"}, nil
	}
	return stored{result: &r}, nil
}

// compose decides the verdict and writes the message.
func compose(cfg Config, s stored) Message {
	m := Message{
		Group: cfg.Group, Spec: cfg.Spec, Version: cfg.Version,
		Run: cfg.Run.Name, Namespace: cfg.Run.Namespace, UID: cfg.Run.UID,
		TaskStatus: cfg.Status.Experiment, TaskReason: cfg.Status.Reason, TasksStatus: cfg.Status.Tasks,
		ResultFound: s.result != nil,
		FailingSLOs: []FailingSLO{}, Problems: []string{}, Regressions: []Regression{},
	}
	if cfg.DashboardURL != "" {
		m.DashboardURL = strings.TrimRight(cfg.DashboardURL, "/") + "/#/namespaces/" + cfg.Run.Namespace + "/pipelineruns/" + cfg.Run.Name
	}
	r := s.result
	if r != nil {
		m.Summary = assess.Summary(r)
		for _, v := range r.SLOs {
			if !v.Satisfied {
				m.FailingSLOs = append(m.FailingSLOs, failing(r, v))
			}
		}
		if g := r.Regression; g != nil && g.Baseline == nil {
			m.RegressionNote = report.NoBaseline(g)
		} else if g != nil {
			m.Baseline, m.Regressed = g.Baseline.Version, r.Regressed
			for _, v := range g.Verdicts {
				m.Regressions = append(m.Regressions, Regression{RegressionVerdict: v, Text: report.RegressionText(v, g.Baseline.Version)})
			}
		}
		for _, f := range r.FailureReasons {
			m.Problems = append(m.Problems, "task "+f)
		}
	} else {
		m.Problems = append(m.Problems, s.missing)
	}
	reason := cfg.Status.Reason
	if reason == "" {
		reason = cfg.Status.Experiment
	}
	switch {
	case cfg.Status.Reason == ReasonCancelled:
		m.Verdict, m.Why = Cancelled, "the experiment was cancelled before it ended"
	case cfg.Status.Experiment == StatusNone:
		m.Verdict, m.Why = Cancelled, "the experiment did not run (the PipelineRun was cancelled or stopped first)"
	case r != nil && r.Failure:
		m.Verdict, m.Why = Error, "the experiment did not complete"
	case r != nil && len(m.FailingSLOs) > 0:
		m.Verdict, m.Why = Fail, fmt.Sprintf("%d of %d SLOs do not hold", len(m.FailingSLOs), len(r.SLOs))
		if len(m.FailingSLOs) == 1 {
			m.Why = fmt.Sprintf("1 of %d SLOs does not hold", len(r.SLOs))
		}
		if m.Regressed {
			m.Why += "; " + m.slower()
		}
	case r != nil && m.Regressed:
		m.Verdict, m.Why = Fail, m.slower()
	case cfg.Status.Experiment == StatusFailed:
		m.Verdict, m.Why = Error, fmt.Sprintf("the experiment task failed (%s)", reason)
	case r != nil && len(r.SLOs) == 0:
		m.Verdict, m.Why = Pass, "the experiment completed; it has no SLOs"
	case r != nil && len(r.SLOs) == 1:
		m.Verdict, m.Why = Pass, "its one SLO holds"
	case r != nil:
		m.Verdict, m.Why = Pass, fmt.Sprintf("all %d SLOs hold", len(r.SLOs))
	default:
		m.Verdict, m.Why = Pass, "the experiment task succeeded"
	}
	m.Text = plainText(m)
	return m
}

// slower says how many regression limits do not hold, e.g. "1 of 2
// regression limits does not hold (baseline 1.0.0)".
func (m Message) slower() string {
	n := 0
	for _, v := range m.Regressions {
		if v.Regressed {
			n++
		}
	}
	verb := "do"
	if n == 1 {
		verb = "does"
	}
	return fmt.Sprintf("%d of %d regression limits %s not hold (baseline %s)", n, len(m.Regressions), verb, m.Baseline)
}

func failing(r *result.Result, v slo.Verdict) FailingSLO {
	f := FailingSLO{
		Metric: v.Metric, Units: r.Units(v.Metric), Bound: v.Bound, Limit: v.Limit,
		Observed: v.Value, Unavailable: v.Unavailable, Condition: v.Condition(r.Units(v.Metric)),
	}
	if v.Value == nil {
		f.Text = fmt.Sprintf("%s: no value (%s)", f.Condition, v.Unavailable)
	} else {
		f.Text = fmt.Sprintf("%s: observed %s", f.Condition, strconv.FormatFloat(*v.Value, 'f', 3, 64))
	}
	return f
}

// style writes a message as plain text or as Slack mrkdwn.
type style struct {
	bold   func(string) string
	code   func(string) string
	escape func(string) string
	link   func(url, text string) string
	bullet string
}

func plainText(m Message) string {
	same := func(s string) string { return s }
	return lines(m, style{
		bold: same, code: same, escape: same,
		link:   func(url, text string) string { return text + ": " + url },
		bullet: "- ",
	})
}

// slackText is the message in Slack's mrkdwn, escaped as Slack asks
// (api.slack.com/reference/surfaces/formatting#escaping).
func slackText(m Message) string {
	escaper := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	return lines(m, style{
		bold:   func(s string) string { return "*" + s + "*" },
		code:   func(s string) string { return "`" + s + "`" },
		escape: escaper.Replace,
		link:   func(url, text string) string { return "<" + url + "|" + text + ">" },
		bullet: "• ",
	})
}

// lines writes the message: headline, failing SLOs, the regression
// verdict (one line per metric judged, or why none was), problems, the
// run.
func lines(m Message, s style) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s\n", s.bold(m.Verdict), s.escape(m.subject()), s.escape(m.Why))
	for _, f := range m.FailingSLOs {
		b.WriteString(s.bullet + s.escape(f.Text) + "\n")
	}
	if m.RegressionNote != "" {
		b.WriteString(s.bullet + s.escape("regression not judged: "+m.RegressionNote) + "\n")
	}
	for _, v := range m.Regressions {
		text := "no regression: " + v.Text
		switch {
		case v.Unavailable != "":
			text = "regression not judged: " + v.Metric + ": " + v.Unavailable
		case v.Regressed:
			text = "regression: " + v.Text
		}
		b.WriteString(s.bullet + s.escape(text) + "\n")
	}
	for _, p := range m.Problems {
		b.WriteString(s.bullet + s.escape(p) + "\n")
	}
	run := fmt.Sprintf("PipelineRun %s in namespace %s", s.code(s.escape(m.Run)), s.code(s.escape(m.Namespace)))
	if m.DashboardURL != "" {
		run += ", " + s.link(m.DashboardURL, "open it in the Tekton Dashboard")
	}
	b.WriteString(run + "\n")
	return b.String()
}

// sample is a message with every field set, on which Validate tries a
// template.
func sample() Message {
	observed := 73.21
	cfg := Config{
		Run:   Run{Name: "autox-httpbin-iter8-1a2b3c4d", Namespace: "autox", UID: "0f2c8a0e-1111-2222-3333-444455556666"},
		Group: "httpbin", Spec: "iter8", Version: "2.0.0",
		Status:       Status{Experiment: StatusFailed, Reason: StatusFailed, Tasks: StatusFailed},
		DashboardURL: "https://tekton.example.com",
	}
	r := &result.Result{
		Version:   result.Version,
		Completed: true,
		SLOs:      []slo.Verdict{{Metric: "http-get/latency-mean", Bound: slo.Upper, Limit: 50, Value: &observed}},
		Metrics:   map[string]float64{"http-get/latency-mean": observed},
		Regression: &result.Regression{Baseline: &result.Baseline{Version: "1.0.0", Run: "autox-httpbin-iter8-0a1b2c3d"}, Alpha: 0.01,
			Verdicts: []result.RegressionVerdict{{Metric: "http-get/latency-p99", MaxRatio: 1.1, Baseline: 16.29, Candidate: 37.15, Ratio: 2.28, P: 1e-12, Slower: 0.97, Regressed: true}}},
		Regressed: true,
	}
	return compose(cfg, stored{result: r})
}

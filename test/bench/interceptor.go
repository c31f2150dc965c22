// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"time"
)

// The trigger's rows: the interceptor's BenchmarkDecision (decisions/s
// and p99 against their goals), and the label-to-PipelineRun latency that
// only the cluster's e2e test measures.

const (
	// decisionsGoal is at least 5000 decisions/s; decisionP99Goal is a
	// p99 under 5 ms with 1000 groups (internal/interceptor's bench_test.go).
	decisionsGoal   = 5000.0
	decisionP99Goal = 5.0
	// labelGoal is the median label-to-PipelineRun latency the e2e test
	// aims for (TestTriggerLatency).
	labelGoal = 0.5
)

// interceptor runs BenchmarkDecision (1000 groups' Triggers in the cache) and
// makes two rows of each sub-benchmark: decisions/s and p99 over their
// goals.
func (s *suite) interceptor(ctx context.Context) []Row {
	const name = "interceptor BenchmarkDecision"
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.goCmd, "test", "-run", "^$", "-bench", "Decision", "-benchtime", "20000x", "./internal/interceptor")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return []Row{failed(name, AtLeast(1), fmt.Errorf("%s test -bench Decision ./internal/interceptor: %v\n%s", s.goCmd, err, tail(string(out), 30)))}
	}
	ds, err := parseDecisions(string(out))
	if err != nil {
		return []Row{failed(name, AtLeast(1), err)}
	}
	return decisionRows(ds)
}

// decisionRows: two rows per sub-benchmark, each figure over its goal.
func decisionRows(ds []Decision) []Row {
	var rows []Row
	for _, d := range ds {
		short := strings.TrimPrefix(d.Name, "BenchmarkDecision/")
		rows = append(rows,
			measured("interceptor decisions/s, "+short, Figure{"interceptor", d.PerSecond, "decisions/s"}, Figure{"goal", decisionsGoal, "decisions/s"}, AtLeast(1)),
			measured("interceptor p99, "+short, Figure{"interceptor", d.P99Millisecs, "ms"}, Figure{"goal", decisionP99Goal, "ms"}, AtMost(1)))
	}
	return rows
}

const labelName = "label to PipelineRun, median (e2e)"

// labelLatency reads the last e2e log's TestTriggerLatency line. The
// bench cannot bring a cluster up; without the log, or without the line,
// the row says so and is not a failure.
func (s *suite) labelLatency() Row {
	b, err := os.ReadFile(s.e2eLog)
	if errors.Is(err, fs.ErrNotExist) {
		return Row{Name: labelName, Goal: AtMost(1), Verdict: NotMeasured, Notes: []string{"not measured in this run: make e2e prints it (no " + s.e2eLog + ")"}}
	}
	if err != nil {
		return failed(labelName, AtMost(1), err)
	}
	info, err := os.Stat(s.e2eLog)
	if err != nil {
		return failed(labelName, AtMost(1), err)
	}
	return labelRow(string(b), s.e2eLog, info.ModTime())
}

// labelRow is the row of an e2e log's text, written at modified.
func labelRow(log, path string, modified time.Time) Row {
	l, ok := parseE2ELatency(log)
	if !ok {
		return Row{Name: labelName, Goal: AtMost(1), Verdict: NotMeasured,
			Notes: []string{"not measured in this run: make e2e prints it (" + path + " has no \"e2e: label to PipelineRun created\" line)"}}
	}
	return measured(labelName, Figure{"e2e", l.Median.Seconds(), "s"}, Figure{"goal", labelGoal, "s"}, AtMost(1),
		fmt.Sprintf("not measured by this run: from %s, written %s by make e2e (TestTriggerLatency, %d label changes, max %.3fs)",
			path, modified.UTC().Format("2006-01-02 15:04 UTC"), l.Changes, l.Max.Seconds()))
}

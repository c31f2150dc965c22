// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"strings"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/parts"
)

// PipelineFor is the Pipeline a run of the experiment text runs:
// contract.WorkersPipeline when its load needs more than one pod
// (parts.Pods: http.workers or grpc.workers of a listed task above 1),
// else contract.Pipeline. An experiment that does not parse runs
// contract.Pipeline, whose ready step fails with the parser's message, as
// a run without workers would; the reason is returned for the log.
func PipelineFor(text string) (pipeline, reason string) {
	e, err := experiment.Parse([]byte(text), "the Trigger's experiment")
	if err != nil {
		return contract.Pipeline, "the experiment does not parse, so its run's ready step will fail: " + firstLine(err.Error())
	}
	if n := parts.Pods(e); n > 1 {
		return contract.WorkersPipeline, ""
	}
	return contract.Pipeline, ""
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

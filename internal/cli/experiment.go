// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
)

// Environment twins of the experiment flags.
const (
	EnvExperimentFile   = "AUTOX_EXPERIMENT_FILE"
	EnvExperiment       = "AUTOX_EXPERIMENT"
	EnvExperimentSource = "AUTOX_EXPERIMENT_SOURCE"
)

// ExperimentFlags are how every step is given its experiment: a file
// (-f), or the YAML itself (-experiment), as a Tekton param arrives.
type ExperimentFlags struct {
	fs                 *flag.FlagSet
	file, text, source *string
}

// AddExperimentFlags declares -f, -experiment and -experiment-source on fs
// and their environment twins in env.
func AddExperimentFlags(fs *flag.FlagSet, env map[string]string) *ExperimentFlags {
	env["f"] = EnvExperimentFile
	env["experiment"] = EnvExperiment
	env["experiment-source"] = EnvExperimentSource
	return &ExperimentFlags{
		fs:     fs,
		file:   fs.String("f", "experiment.yaml", "experiment file"),
		text:   fs.String("experiment", "", "the experiment's YAML itself, instead of -f (a Tekton param)"),
		source: fs.String("experiment-source", "-experiment", "how messages name the -experiment text (the Task says params.experiment)"),
	}
}

// Load reads and validates the whole experiment, from -experiment when
// given, else from -f. Relative paths in a text experiment start at the
// working directory. Giving both is bad input.
func (x *ExperimentFlags) Load() (*experiment.Experiment, error) {
	fileSet := false
	x.fs.Visit(func(f *flag.Flag) { fileSet = fileSet || f.Name == "f" })
	if strings.TrimSpace(*x.text) == "" {
		if *x.text != "" {
			return nil, badinput.Field(*x.source, "is blank; write the experiment's YAML, e.g. {tasks: [http, assess], http: {url: ...}}")
		}
		return experiment.Load(*x.file)
	}
	if fileSet {
		return nil, badinput.Field("", fmt.Sprintf("the experiment is given twice, as -f %q and as -experiment text; give one", *x.file))
	}
	return experiment.Parse([]byte(*x.text), *x.source)
}

// Skip reports whether task is absent from e's tasks list, and then logs
// the one line that says why the step ends at once: in the Tekton Task
// every step runs, and each does only its part of the experiment.
func Skip(e *experiment.Experiment, task string, log *slog.Logger) bool {
	if e.HasTask(task) {
		return false
	}
	log.Info(fmt.Sprintf("%s is not in the experiment's tasks [%s]; nothing to do", task, strings.Join(e.Tasks, ", ")))
	return true
}

// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package cli holds what every autox command does the same way: flags with
// environment twins (Tekton params arrive as either), and one place that
// turns an error into a message and an exit status.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/outcome"
)

// Parse parses args into fs, then fills every flag not given on the
// command line from its environment twin (env maps flag name to variable).
// Errors are bad input; -h prints fs.Usage and returns flag.ErrHelp.
func Parse(fs *flag.FlagSet, args []string, env map[string]string, getenv func(string) string) error {
	fs.SetOutput(io.Discard)
	// Package flag prints the usage on every parse error; only -h should:
	// a bad value is one line.
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			if usage != nil {
				usage()
			}
			return err
		}
		var refused error
		fs.VisitAll(func(f *flag.Flag) {
			if b, ok := f.Value.(bounded); ok && b.refusal() != nil {
				refused = badinput.Field("-"+f.Name, b.refusal().Error())
			}
		})
		if refused != nil {
			return refused
		}
		return badinput.Field("", err.Error()+"; run with -h for the flags")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, variable := range env {
		v := getenv(variable)
		if set[name] || v == "" {
			continue
		}
		if err := fs.Set(name, v); err != nil {
			var refused *rangeError
			if errors.As(err, &refused) {
				return badinput.Field(variable+" (-"+name+")", refused.Error())
			}
			return badinput.Field(variable, fmt.Sprintf("%q is not a valid value for -%s (%v); run with -h for the flags", v, name, err))
		}
	}
	if fs.NArg() > 0 {
		return badinput.Field("", fmt.Sprintf("unexpected argument %q; run with -h for the flags", fs.Arg(0)))
	}
	return nil
}

// Usage prints fs's flags with their environment twins.
func Usage(w io.Writer, fs *flag.FlagSet, summary string, env map[string]string) {
	fmt.Fprintf(w, "%s\n\nFlags (each also read from its environment variable):\n", summary)
	fs.VisitAll(func(f *flag.Flag) {
		twin := ""
		if v, ok := env[f.Name]; ok {
			twin = " [$" + v + "]"
		}
		def := ""
		if f.DefValue != "" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  -%s%s\n      %s%s\n", f.Name, twin, f.Usage, def)
	})
}

// StopGrace is how long a program may take to end after a stop signal
// (SIGTERM, as Tekton sends on cancel and timeout, or SIGINT): its work
// should have returned long before; the grace keeps the promise that
// every step ends within 5 s even when a part of it does not.
const StopGrace = 4 * time.Second

// Run runs work with ctx, which main cancels on SIGTERM and SIGINT, and
// returns the exit status (see Exit). After the stop, work has StopGrace
// to return; then Run gives up on it, says so and returns outcome.Failed.
func Run(ctx context.Context, program string, stderr io.Writer, work func(context.Context) error) int {
	return run(ctx, StopGrace, program, stderr, work)
}

func run(ctx context.Context, grace time.Duration, program string, stderr io.Writer, work func(context.Context) error) int {
	done := make(chan error, 1)
	go func() { done <- work(ctx) }()
	select {
	case err := <-done:
		return Exit(program, err, stderr)
	case <-ctx.Done():
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-done:
		return Exit(program, err, stderr)
	case <-t.C:
		return Exit(program, fmt.Errorf("stopped (%w) but did not end within %s; ended it without waiting further", context.Cause(ctx), grace), stderr)
	}
}

// Exit prints err (if any) for people on stderr and returns the exit
// status of the outcome.
func Exit(program string, err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return outcome.OK
	case errors.Is(err, flag.ErrHelp):
		return outcome.OK
	case errors.Is(err, outcome.ErrSLOsViolated):
		// The report and its ::error:: lines already said which.
		return outcome.Violated
	case err == outcome.ErrExperimentFailed:
		// Bare: the report's ::error:: lines already said which task.
		// Wrapped, it carries a cause of its own, printed below.
		return outcome.Failed
	}
	// One line per problem, each naming the program, so that every line
	// of a log can be read on its own.
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(stderr, "%s: %s\n", program, line)
	}
	return outcome.Code(err)
}

// Main runs a program's work with a context that ends on SIGTERM (Tekton's
// cancel and timeout) or SIGINT, and exits with Run's status.
func Main(program string, work func(context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := Run(ctx, program, os.Stderr, work)
	stop()
	os.Exit(code)
}

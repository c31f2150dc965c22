// Command assess is the assess step: it reads the experiment's metrics
// files, checks the SLOs, writes result.json, report.txt and report.html,
// and prints the report.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/autox-tekton/autox/internal/assess"
	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/experiment"
)

const usage = `assess: check an experiment's SLOs and write its reports

Exit status: 0 every SLO holds (or -fail-on-violation=false), 1 an SLO does
not hold, 2 bad input, 3 a task did not complete, or assess was stopped: on
SIGTERM (Tekton's cancel and timeout) it ends at once; result.json,
report.txt and report.html are each whole or absent.`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := cli.Run(ctx, "assess", os.Stderr, func(ctx context.Context) error {
		return runAssess(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	})
	stop()
	os.Exit(code)
}

func runAssess(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	env := map[string]string{"f": "AUTOX_EXPERIMENT_FILE", "dir": "AUTOX_DIR", "o": "AUTOX_OUTPUT", "fail-on-violation": "AUTOX_FAIL_ON_VIOLATION"}
	fs := flag.NewFlagSet("assess", flag.ContinueOnError)
	file := fs.String("f", "experiment.yaml", "experiment file")
	dir := fs.String("dir", ".", "folder with the metrics files; receives result.json, report.txt, report.html")
	out := fs.String("o", assess.Text, "report printed to stdout: text, json or html")
	fail := fs.Bool("fail-on-violation", true, "exit 1 when an SLO does not hold; false reports it as a warning and exits 0")
	fs.Usage = func() { cli.Usage(stderr, fs, usage, env) }
	if err := cli.Parse(fs, args, env, getenv); err != nil {
		return err
	}
	e, err := experiment.Load(*file)
	if err != nil {
		return err
	}
	// assess.Run takes no context: it reads files and writes three. A stop
	// ends the program at once, which is safe because each file is
	// written to a temporary file and renamed into place.
	done := make(chan error, 1)
	go func() {
		_, err := assess.Run(assess.Config{Experiment: e, Dir: *dir, Output: *out, FailOnViolation: *fail}, stdout, stderr)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("stopped (%w) before the assessment ended; result.json, report.txt and report.html are each whole or absent", context.Cause(ctx))
	}
}

// Command assess is the assess step: it reads the experiment's metrics
// files, checks the SLOs, writes result.json, report.txt and report.html,
// and prints the report.
package main

import (
	"flag"
	"io"
	"os"

	"github.com/autox-tekton/autox/internal/assess"
	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/experiment"
)

func main() {
	os.Exit(cli.Exit("assess", runAssess(os.Args[1:], os.Stdout, os.Stderr, os.Getenv), os.Stderr))
}

func runAssess(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	env := map[string]string{"f": "AUTOX_EXPERIMENT_FILE", "dir": "AUTOX_DIR", "o": "AUTOX_OUTPUT", "fail-on-violation": "AUTOX_FAIL_ON_VIOLATION"}
	fs := flag.NewFlagSet("assess", flag.ContinueOnError)
	file := fs.String("f", "experiment.yaml", "experiment file")
	dir := fs.String("dir", ".", "folder with the metrics files; receives result.json, report.txt, report.html")
	out := fs.String("o", assess.Text, "report printed to stdout: text, json or html")
	fail := fs.Bool("fail-on-violation", true, "exit 1 when an SLO does not hold; false reports it as a warning and exits 0")
	fs.Usage = func() { cli.Usage(stderr, fs, "assess: check an experiment's SLOs and write its reports", env) }
	if err := cli.Parse(fs, args, env, getenv); err != nil {
		return err
	}
	e, err := experiment.Load(*file)
	if err != nil {
		return err
	}
	_, err = assess.Run(assess.Config{Experiment: e, Dir: *dir, Output: *out, FailOnViolation: *fail}, stdout, stderr)
	return err
}

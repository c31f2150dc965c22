// Command ready is the ready step: it waits until the experiment's ready
// objects (a Deployment Available, a Service with ready endpoints, ...)
// are ready, or says what was not and why.
package main

import (
	"context"
	"flag"
	"github.com/go-logr/logr"
	"io"
	"k8s.io/klog/v2"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/run"
)

func main() {
	// client-go reports a watch cut short by the timeout through klog; the
	// step says what was not ready in its own words.
	klog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Exit("ready", runReady(ctx, os.Args[1:], os.Stderr, os.Getenv), os.Stderr)
	stop()
	os.Exit(code)
}

func runReady(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	env := map[string]string{"f": "AUTOX_EXPERIMENT_FILE", "dir": "AUTOX_DIR", "kubeconfig": "KUBECONFIG"}
	fs := flag.NewFlagSet("ready", flag.ContinueOnError)
	file := fs.String("f", "experiment.yaml", "experiment file")
	dir := fs.String("dir", ".", "folder to write ready.metrics.json into")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file; in a pod, the pod's service account is used")
	fs.Usage = func() { cli.Usage(stderr, fs, "ready: wait until the experiment's objects are ready", env) }
	if err := cli.Parse(fs, args, env, getenv); err != nil {
		return err
	}
	e, err := experiment.Load(*file)
	if err != nil {
		return err
	}
	return run.Steps{Log: logging.New(stderr, slog.LevelInfo)}.Ready(ctx, e, *kubeconfig, *dir)
}

// Command watcher turns version-label changes of the objects that the
// autox Triggers name into events for the autox EventListener. It runs
// as a Deployment (triggers/watcher.yaml) until it is stopped.
package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/watcher"
)

const usage = `watcher: post version-label changes of the objects the autox Triggers name to the EventListener

It reads the Triggers labelled autox.dev/group in -namespace; the param
"trigger" of each one's autox interceptor names the object to watch
({name, namespace, group, version, resource}). It posts {type, object,
oldObject} for every change of the label app.kubernetes.io/version, every
deletion, and on start, on every re-list and every -resync the state of
each watched object. An EventListener that does not answer is retried
with backoff (200ms doubled up to 5s); only the newest state of each
object waits, and none is dropped. A Trigger that names a resource the
API server does not serve, or one the watcher may not watch, is logged
once and skipped (and asked about again every 30s); the others keep
working.

Outside a pod the cluster is found as kubectl finds it: -kubeconfig (one
file), else $KUBECONFIG (a list of files, merged), else ~/.kube/config.

Exit status: 0 stopped (SIGTERM or SIGINT: it ends within 5s; events
not posted yet are sent again, as every object's state, by the next
start), 2 bad input (a flag, the kubeconfig), 3 the Triggers cannot be
read (Tekton Triggers not installed, or not allowed to watch them).`

func main() {
	kube.Main("watcher", func(ctx context.Context, log *slog.Logger) error {
		return runWatcher(ctx, os.Args[1:], os.Stderr, log, os.Getenv)
	})
}

func runWatcher(ctx context.Context, args []string, stderr io.Writer, log *slog.Logger, getenv func(string) string) error {
	env := map[string]string{
		"eventlistener-url": "AUTOX_EVENTLISTENER_URL",
		"namespace":         "AUTOX_NAMESPACE",
		"resync":            "AUTOX_RESYNC",
		"kubeconfig":        "AUTOX_KUBECONFIG",
	}
	fs := flag.NewFlagSet("watcher", flag.ContinueOnError)
	url := fs.String("eventlistener-url", "", "where to post events (default http://el-autox.<namespace>.svc.cluster.local:8080)")
	namespace := fs.String("namespace", "", "namespace of the autox EventListener and its Triggers (default: the pod's, or the kubeconfig context's)")
	resync := fs.Duration("resync", watcher.DefaultResync, "how often to post every watched object's state again; 0: only on start and re-list")
	kubeconfig := fs.String("kubeconfig", "", "one kubeconfig file, read alone (default: $KUBECONFIG, then ~/.kube/config; in a pod, the pod's service account)")
	fs.Usage = func() { cli.Usage(stderr, fs, usage, env) }
	if err := cli.Parse(fs, args, env, getenv); err != nil {
		return err
	}
	return watcher.Run(ctx, watcher.Config{
		EventListenerURL: *url,
		Namespace:        *namespace,
		Resync:           *resync,
		Kubeconfig:       kube.Kubeconfig{File: *kubeconfig, Files: getenv("KUBECONFIG"), Home: getenv("HOME")},
	}, log)
}

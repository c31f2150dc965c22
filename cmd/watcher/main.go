// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

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
	"time"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/watcher"
)

const usage = `watcher: ask the autox interceptor about every group whose record does not show its object's state

It reads the Triggers labelled autox.dev/group in -namespace (each is one
group and spec: the params of its autox interceptor, whose "trigger"
names the object, {name, namespace, group, version, resource}), the
records labelled autox.dev/record=true there, and the objects' metadata.
On every change of an object's label app.kubernetes.io/version, its
deletion, every re-list, every record change and every -resync, it
checks whether the group's record shows the object's state. When it does
not, it posts one event {type, trigger, object} with the object's
metadata only (name, namespace, uid, resourceVersion and the version
label) to the EventListener, and asks again after 500ms, doubled up to
5s, until the record agrees or the object changes. When it agrees,
nothing is posted. A post the EventListener refuses is retried with
backoff (200ms doubled up to 5s). A Trigger that is not valid, or names
a resource the API server does not serve or the watcher may not watch,
is logged once and skipped (and asked about again every 30s); the
others keep working.

With -leader-elect (the default), replicas share the Lease autox-watcher
in -namespace: only its holder posts, the others keep their caches warm
and take over within 15s. The replica is named by $POD_NAME, else the
hostname. It serves /metrics, /healthz and /readyz (ready once the
Triggers and the records are read) on -metrics-addr.

Outside a pod the cluster is found as kubectl finds it: -kubeconfig (one
file), else $KUBECONFIG (a list of files, merged), else ~/.kube/config.

Exit status: 0 stopped (SIGTERM or SIGINT: it ends within 5s; nothing is
lost, the next leader asks again about every group whose record does not
agree), 2 bad input (a flag, the kubeconfig), 3 the Triggers or the
records cannot be read (Tekton Triggers not installed, or not allowed to
watch them).`

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
		"metrics-addr":      "AUTOX_METRICS_ADDR",
		"leader-elect":      "AUTOX_LEADER_ELECT",
	}
	fs := flag.NewFlagSet("watcher", flag.ContinueOnError)
	url := fs.String("eventlistener-url", "", "where to post events (default http://el-autox.<namespace>.svc.cluster.local:8080)")
	namespace := fs.String("namespace", "", "namespace of the autox EventListener and its Triggers (default: the pod's, or the kubeconfig context's)")
	resync := cli.Duration(fs, "resync", watcher.DefaultResync, cli.DurationRange{Min: time.Second, Max: 24 * time.Hour, Zero: "to check only on changes and re-lists", Example: "5m"},
		"how often to check every group's record against its object again; 0: only on changes and re-lists")
	metricsAddr := fs.String("metrics-addr", watcher.DefaultMetricsAddr, "where to serve /metrics, /healthz and /readyz")
	leaderElect := fs.Bool("leader-elect", true, "post only while holding the Lease autox-watcher in -namespace; false: always post (one watcher, or outside a cluster)")
	kubeconfig := fs.String("kubeconfig", "", "one kubeconfig file, read alone (default: $KUBECONFIG, then ~/.kube/config; in a pod, the pod's service account)")
	fs.Usage = func() { cli.Usage(stderr, fs, usage, env) }
	if err := cli.Parse(fs, args, env, getenv); err != nil {
		return err
	}
	identity := getenv("POD_NAME")
	if identity == "" {
		identity, _ = os.Hostname()
	}
	return watcher.Run(ctx, watcher.Config{
		EventListenerURL: *url,
		Namespace:        *namespace,
		Resync:           *resync,
		MetricsAddr:      *metricsAddr,
		LeaderElect:      *leaderElect,
		Identity:         identity,
		Kubeconfig:       kube.Kubeconfig{File: *kubeconfig, Files: getenv("KUBECONFIG"), Home: getenv("HOME")},
	}, log)
}

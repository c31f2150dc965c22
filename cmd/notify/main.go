// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command notify is the autox Pipeline's finally step: it posts how the
// run ended (PASS, FAIL, CANCELLED or ERROR, with the failing SLOs) to the
// webhook in the Secret autox-notify, or says in one line that
// notifications are off.
package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/notify"
)

const usage = `notify: post how an autox run ended to a webhook

The webhook comes from the Secret autox-notify: key url (its URL), key
template (optional: a Go text/template of the JSON body, given a
notify.Message; default Slack's {"text": ...}). The Task passes each key
as the twin of -url and -template, and the Secret's key names as
AUTOX_NOTIFY_SECRET_<key> (envFrom), so that a Secret without url is told
from no Secret. No Secret and no -url: notifications are off, said in one
line. The failing SLOs are read from the result ConfigMap named after the
PipelineRun (get on configmaps); a missing one is named in the message.

Exit status: 0 sent, off, or the webhook refused (a ::warning:: line that
names its host, never its URL; the run's outcome does not change), 2 bad
input (a Secret without url, a URL that is not http(s), a template that
does not parse or run or renders no JSON, a bad -dashboard-url), 3
stopped: on SIGTERM (Tekton's cancel and timeout) it ends at once.`

// secretPrefix is the envFrom prefix under which the Task passes the
// Secret's keys; only their names are read.
const secretPrefix = "AUTOX_NOTIFY_SECRET_"

func main() {
	kube.Main("notify", func(ctx context.Context, _ *slog.Logger) error {
		return runNotify(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ(), connect)
	})
}

// connect finds the cluster as the other steps do: in a pod, the pod's
// ServiceAccount.
func connect(k kube.Kubeconfig) (corev1client.ConfigMapsGetter, error) {
	c, err := kube.Connect(k)
	if err != nil {
		return nil, err
	}
	return c.Kube.CoreV1(), nil
}

func runNotify(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string, connect func(kube.Kubeconfig) (corev1client.ConfigMapsGetter, error)) error {
	vars := map[string]string{}
	var secretKeys []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
		if key, ok := strings.CutPrefix(k, secretPrefix); ok {
			secretKeys = append(secretKeys, key)
		}
	}
	slices.Sort(secretKeys)
	getenv := func(k string) string { return vars[k] }
	env := map[string]string{
		"url": "AUTOX_NOTIFY_URL", "template": "AUTOX_NOTIFY_TEMPLATE",
		"pipelinerun": "AUTOX_PIPELINERUN", "pipelinerun-uid": "AUTOX_PIPELINERUN_UID", "namespace": "AUTOX_NAMESPACE",
		"group": "AUTOX_GROUP", "spec": "AUTOX_SPEC", "version": "AUTOX_VERSION",
		"experiment-status": "AUTOX_EXPERIMENT_STATUS", "experiment-reason": "AUTOX_EXPERIMENT_REASON", "tasks-status": "AUTOX_TASKS_STATUS",
		"dashboard-url": "AUTOX_DASHBOARD_URL", "kubeconfig": "AUTOX_KUBECONFIG",
	}
	fs := flag.NewFlagSet("notify", flag.ContinueOnError)
	cfg := notify.Config{SecretKeys: secretKeys}
	fs.StringVar(&cfg.URL, "url", "", "the webhook's URL (a secret: never printed)")
	fs.StringVar(&cfg.Template, "template", "", "Go text/template of the JSON body, given a notify.Message; \"\" sends Slack's {\"text\": ...}")
	fs.StringVar(&cfg.Run.Name, "pipelinerun", "", "the PipelineRun; its result ConfigMap has its name")
	fs.StringVar(&cfg.Run.UID, "pipelinerun-uid", "", "its uid: a result ConfigMap owned by another run is not used")
	fs.StringVar(&cfg.Run.Namespace, "namespace", "", "its namespace")
	fs.StringVar(&cfg.Group, "group", "", "the trigger group (e.g. httpbin)")
	fs.StringVar(&cfg.Spec, "spec", "", "the experiment spec (e.g. iter8)")
	fs.StringVar(&cfg.Version, "version", "", "the version under test (e.g. 2.0.0)")
	fs.StringVar(&cfg.Status.Experiment, "experiment-status", "", "the experiment task's status: Succeeded, Failed or None ($(tasks.experiment.status))")
	fs.StringVar(&cfg.Status.Reason, "experiment-reason", "", "its TaskRun's reason, e.g. TaskRunCancelled ($(tasks.experiment.reason))")
	fs.StringVar(&cfg.Status.Tasks, "tasks-status", "", "the status of all tasks ($(tasks.status))")
	fs.StringVar(&cfg.DashboardURL, "dashboard-url", "", "the Tekton Dashboard's address; the message links <url>/#/namespaces/<ns>/pipelineruns/<name>; \"\" links nothing")
	kubeconfig := fs.String("kubeconfig", "", "one kubeconfig file, read alone (default: $KUBECONFIG, then ~/.kube/config; in a pod, the pod's service account)")
	fs.Usage = func() { cli.Usage(stderr, fs, usage, env) }
	if err := cli.Parse(fs, args, env, getenv); err != nil {
		return err
	}
	n := notify.Notifier{
		ConfigMaps: func() (corev1client.ConfigMapsGetter, error) {
			return connect(kube.Kubeconfig{File: *kubeconfig, Files: getenv("KUBECONFIG"), Home: getenv("HOME")})
		},
		Stdout: stdout,
		Log:    logging.New(stderr, slog.LevelInfo),
	}
	return n.Run(ctx, cfg)
}

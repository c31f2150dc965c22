// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/autox-tekton/autox/internal/generate"
)

const generateUsage = `autox generate: the Triggers and RoleBindings for Iter8 AutoX's Helm values

  autox generate [--set K=V]... [-f values.yaml]... | kubectl apply -f -

Takes the values of Iter8 AutoX's chart as helm install does (--set with
Helm's syntax, several comma-separated in one --set, lists as {a,b};
-f files merged in order, then each --set in order, the later winning) and
prints, for each group and spec, the Trigger autox-<group>-<spec> in the
namespace autox-system; a ClusterRole for each kind autox does not read yet
(it joins autox-watched or autox-ready); then, per namespace of the trigger
and ready objects, the read-only RoleBindings autox-watched (the watcher
and the interceptor) and autox-ready (the runs). Objects in kube-system,
kube-public, kube-node-lease, autox or autox-system are refused. Files an
experiment reads must be relative to the Task's data workspace, and no
document URL may be link-local. The seed's command works with helm install replaced by
autox generate: the release name, the chart, --repo and --version are
ignored, as are each spec's name and version and values.runner=job, with a
note on stderr. Each spec's values are checked as autox run checks an
experiment; on any problem nothing is printed and autox exits 2.

Example (the seed's HTTP tutorial):

  autox generate \
    --set groups.httpbin.trigger.name=httpbin \
    --set groups.httpbin.trigger.namespace=default \
    --set groups.httpbin.trigger.group=apps \
    --set groups.httpbin.trigger.version=v1 \
    --set groups.httpbin.trigger.resource=deployments \
    --set "groups.httpbin.specs.iter8.values.tasks={ready,http,assess}" \
    --set groups.httpbin.specs.iter8.values.ready.deploy=httpbin \
    --set groups.httpbin.specs.iter8.values.ready.service=httpbin \
    --set groups.httpbin.specs.iter8.values.http.url=http://httpbin.default/get \
    --set groups.httpbin.specs.iter8.values.assess.SLOs.upper.http/error-count=0 \
    | kubectl apply -f -
`

// generateCmd is autox generate: the YAML on stdout, the notes on stderr.
func generateCmd(args []string, stdout, stderr io.Writer) error {
	out, notes, err := generate.FromArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stderr, generateUsage)
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "autox: %s\n", n)
	}
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}

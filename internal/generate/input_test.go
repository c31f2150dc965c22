// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package generate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/badinput"
)

// httpbin sets a whole group httpbin with spec iter8, one --set each;
// drop and add change it.
var httpbinSets = []string{
	"groups.httpbin.trigger.name=httpbin",
	"groups.httpbin.trigger.namespace=default",
	"groups.httpbin.trigger.group=apps",
	"groups.httpbin.trigger.version=v1",
	"groups.httpbin.trigger.resource=deployments",
	"groups.httpbin.specs.iter8.values.tasks={http}",
	"groups.httpbin.specs.iter8.values.http.url=http://httpbin.default/get",
}

// args is --set for each of sets but those starting with one of drop.
func args(sets []string, drop ...string) []string {
	var out []string
	for _, s := range sets {
		keep := true
		for _, d := range drop {
			keep = keep && !strings.HasPrefix(s, d+"=") && !strings.HasPrefix(s, d+".")
		}
		if keep {
			out = append(out, "--set", s)
		}
	}
	return out
}

func with(base []string, more ...string) []string {
	return append(append([]string(nil), base...), more...)
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	badYAML := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badYAML, []byte("groups: [a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(dir, "list.yaml")
	if err := os.WriteFile(list, []byte("- a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "absent.yaml")
	long := strings.Repeat("a", 40)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{{
		name: "nothing at all",
		want: "groups: no groups given; name the object and its experiment, e.g. --set groups.httpbin.trigger.name=httpbin (run autox generate -h for a whole example)",
	}, {
		name: "release and chart only",
		args: []string{"autox", "autox"},
		want: "groups: no groups given; name the object and its experiment, e.g. --set groups.httpbin.trigger.name=httpbin (run autox generate -h for a whole example)",
	}, {
		name: "trigger without name",
		args: args(httpbinSets, "groups.httpbin.trigger.name"),
		want: "groups.httpbin.trigger.name: missing; set it, e.g. --set groups.httpbin.trigger.name=httpbin (the trigger object is name, namespace, group, version and resource)",
	}, {
		name: "trigger without namespace, version and resource",
		args: args(httpbinSets, "groups.httpbin.trigger.namespace", "groups.httpbin.trigger.version", "groups.httpbin.trigger.resource"),
		want: "groups.httpbin.trigger.namespace: missing; set it, e.g. --set groups.httpbin.trigger.namespace=default (the trigger object is name, namespace, group, version and resource)\n" +
			"groups.httpbin.trigger.version: missing; set it, e.g. --set groups.httpbin.trigger.version=v1 (the trigger object is name, namespace, group, version and resource)\n" +
			"groups.httpbin.trigger.resource: missing; set it, e.g. --set groups.httpbin.trigger.resource=deployments (the trigger object is name, namespace, group, version and resource)",
	}, {
		name: "no trigger",
		args: args(httpbinSets, "groups.httpbin.trigger"),
		want: "groups.httpbin.trigger: missing; name the object whose version label launches runs, e.g. --set groups.httpbin.trigger.name=httpbin,groups.httpbin.trigger.namespace=default,groups.httpbin.trigger.group=apps,groups.httpbin.trigger.version=v1,groups.httpbin.trigger.resource=deployments",
	}, {
		name: "trigger is a value",
		args: with(args(httpbinSets, "groups.httpbin.trigger"), "--set", "groups.httpbin.trigger=httpbin"),
		want: `groups.httpbin.trigger: "httpbin" is not a map; name the object whose version label launches runs, e.g. --set groups.httpbin.trigger.name=httpbin,groups.httpbin.trigger.namespace=default,groups.httpbin.trigger.group=apps,groups.httpbin.trigger.version=v1,groups.httpbin.trigger.resource=deployments`,
	}, {
		name: "trigger field is a list",
		args: with(args(httpbinSets), "--set", "groups.httpbin.trigger.name={a,b}"),
		want: "groups.httpbin.trigger.name: a list is not a single value; write e.g. --set groups.httpbin.trigger.name=httpbin",
	}, {
		name: "namespace not a DNS label",
		args: with(args(httpbinSets), "--set", "groups.httpbin.trigger.namespace=Default"),
		want: `groups.httpbin.trigger.namespace: the namespace "Default" is not a DNS label; use lower-case letters, digits and '-', starting and ending with a letter or digit`,
	}, {
		name: "misspelt trigger key",
		args: with(args(httpbinSets), "--set", "groups.httpbin.trigger.resources=deployments"),
		want: `groups.httpbin.trigger.resources: unknown key; did you mean "resource"?`,
	}, {
		name: "misspelt group key: reported, and the trigger missing too",
		args: with(args(httpbinSets, "groups.httpbin.trigger"), "--set", "groups.httpbin.triger.name=httpbin"),
		want: "groups.httpbin.triger: unknown key; did you mean \"trigger\"?\n" +
			"groups.httpbin.trigger: missing; name the object whose version label launches runs, e.g. --set groups.httpbin.trigger.name=httpbin,groups.httpbin.trigger.namespace=default,groups.httpbin.trigger.group=apps,groups.httpbin.trigger.version=v1,groups.httpbin.trigger.resource=deployments",
	}, {
		name: "misspelt spec key",
		args: with(args(httpbinSets), "--set", "groups.httpbin.specs.iter8.valeus.x=1"),
		want: `groups.httpbin.specs.iter8.valeus: unknown key; did you mean "values"?`,
	}, {
		name: "unknown top-level key",
		args: with(args(httpbinSets), "--set", "image.tag=latest"),
		want: "image: unknown key; known keys here are groups",
	}, {
		name: "misspelt groups",
		args: []string{"--set", "group.httpbin.trigger.name=httpbin"},
		want: "group: unknown key; did you mean \"groups\"?\n" +
			"groups: no groups given; name the object and its experiment, e.g. --set groups.httpbin.trigger.name=httpbin (run autox generate -h for a whole example)",
	}, {
		name: "two groups on one object",
		args: with(args(httpbinSets), args([]string{
			"groups.other.trigger.name=httpbin,groups.other.trigger.namespace=default,groups.other.trigger.group=apps,groups.other.trigger.version=v1,groups.other.trigger.resource=deployments",
			"groups.other.specs.load.values.tasks={http},groups.other.specs.load.values.http.url=http://httpbin.default/get",
		})...),
		want: `groups.other.trigger: names deployments.apps default/httpbin, as groups.httpbin.trigger does; an object belongs to one group, so move the specs of "other" under groups.httpbin.specs`,
	}, {
		name: "group not a DNS label",
		args: []string{"--set", "groups.HTTP_bin.trigger.name=httpbin,groups.HTTP_bin.trigger.namespace=default,groups.HTTP_bin.trigger.version=v1,groups.HTTP_bin.trigger.resource=pods",
			"--set", "groups.HTTP_bin.specs.iter8.values.tasks={http},groups.HTTP_bin.specs.iter8.values.http.url=http://a/"},
		want: `groups.HTTP_bin: the group "HTTP_bin" is not a DNS label; use lower-case letters, digits and '-', starting and ending with a letter or digit`,
	}, {
		name: "spec not a DNS label",
		args: with(args(httpbinSets), "--set", "groups.httpbin.specs.-x.values.tasks={http},groups.httpbin.specs.-x.values.http.url=http://a/"),
		want: `groups.httpbin.specs.-x: the spec "-x" is not a DNS label; use lower-case letters, digits and '-', starting and ending with a letter or digit`,
	}, {
		name: "group and spec too long together",
		args: with(args(httpbinSets), "--set", "groups.httpbin.specs."+long+".values.tasks={http},groups.httpbin.specs."+long+".values.http.url=http://a/"),
		want: `groups.httpbin.specs.` + long + `: the group "httpbin" and spec "` + long + `" are 47 characters together; shorten them to 45 at most so that run names fit 63 characters`,
	}, {
		name: "group without specs",
		args: args(httpbinSets, "groups.httpbin.specs"),
		want: "groups.httpbin.specs: missing; a group needs at least one spec with its experiment, e.g. --set groups.httpbin.specs.iter8.values.tasks={ready,http,assess}",
	}, {
		name: "spec without values",
		args: with(args(httpbinSets, "groups.httpbin.specs"), "--set", "groups.httpbin.specs.iter8.version=0.13.4"),
		want: "groups.httpbin.specs.iter8.values: missing; the values are the experiment, e.g. --set groups.httpbin.specs.iter8.values.tasks={ready,http,assess} and its ready, http and assess keys",
	}, {
		name: "a typo in the experiment",
		args: with(args(httpbinSets), "--set", "groups.httpbin.specs.iter8.values.http.numRequest=10"),
		want: `groups.httpbin.specs.iter8.values: http.numRequest: unknown key; did you mean "numRequests"?`,
	}, {
		name: "every problem of the experiment",
		args: with(args(httpbinSets), "--set", "groups.httpbin.specs.iter8.values.http.numRequest=10,groups.httpbin.specs.iter8.values.http.qps=0"),
		want: "groups.httpbin.specs.iter8.values: http.numRequest: unknown key; did you mean \"numRequests\"?\n" +
			"groups.httpbin.specs.iter8.values: http.qps: \"0\" is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited",
	}, {
		name: "a runner other than job",
		args: with(args(httpbinSets), "--set", "groups.httpbin.specs.iter8.values.runner=cronjob"),
		want: `groups.httpbin.specs.iter8.values: runner: "cronjob" is not supported; autox runs each experiment once per version (runner: job), remove the key`,
	}, {
		name: "unreadable values file",
		args: with(args(httpbinSets), "-f", missing),
		want: "-f " + missing + ": cannot read the values file: no such file or directory; pass an existing file",
	}, {
		name: "invalid YAML in a values file",
		args: []string{"-f", badYAML},
		want: "-f " + badYAML + ": invalid YAML: line 1: did not find expected ',' or ']'; fix the syntax at that line\n" +
			"groups: no groups given; name the object and its experiment, e.g. --set groups.httpbin.trigger.name=httpbin (run autox generate -h for a whole example)",
	}, {
		name: "a values file that is a list",
		args: with(args(httpbinSets), "--values", list),
		want: "-f " + list + ": a list is not a map; write the values as keys, e.g. groups: {httpbin: {trigger: ...}}",
	}, {
		name: "a --set that does not parse",
		args: with(args(httpbinSets), "--set", "groups.httpbin.specs.iter8.values.tasks={http"),
		want: "--set groups.httpbin.specs.iter8.values.tasks={http: groups.httpbin.specs.iter8.values.tasks: the list has no closing '}'; write {a,b,c}, and quote the --set in the shell",
	}, {
		name: "a key under a value",
		args: with(args(httpbinSets), "--set", "groups.httpbin.trigger.name.first=x"),
		want: "--set groups.httpbin.trigger.name.first=x: groups.httpbin.trigger.name is already \"httpbin\", not a map; set either groups.httpbin.trigger.name or keys under it, not both",
	}, {
		name: "unknown flag",
		args: with(args(httpbinSets), "--wait"),
		want: `unknown flag "--wait"; autox generate takes --set K=V and -f values.yaml, and ignores helm install's --repo and --version (run autox generate -h)`,
	}, {
		name: "--set without a value",
		args: []string{"--set"},
		want: "--set: needs a value; write --set groups.httpbin.trigger.name=httpbin",
	}, {
		name: "-f without a value",
		args: []string{"-f"},
		want: "-f: needs a value; write -f values.yaml",
	}, {
		name: "a third word",
		args: []string{"autox", "autox", "extra"},
		want: `unexpected argument "extra"; autox generate takes --set K=V and -f values.yaml (run autox generate -h)`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := FromArgs(tc.args)
			if out != nil {
				t.Errorf("bad input printed YAML:\n%s", out)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !badinput.Is(err) {
				t.Errorf("%T is not bad input (exit 2): %v", err, err)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

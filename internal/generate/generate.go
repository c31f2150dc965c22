// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package generate turns the values of Iter8 AutoX's Helm chart, as the
// seed's `helm install autox autox ... --set groups.G...` gives them, into
// what does the same on Tekton (triggers/README.md): one Trigger per group
// and spec, and one RoleBinding per namespace of the trigger objects.
package generate

import (
	"flag"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/names"
)

// Args are autox generate's command line, split.
type Args struct {
	// Sets are the --set arguments, in order: later ones win.
	Sets []string
	// Files are the -f (--values) files, merged in order before the Sets.
	Files []string
	// Ignored are helm install's words that mean nothing here (release
	// name, chart, --repo X, --version X), for the note that says so.
	Ignored []string
}

// ParseArgs splits the command line; -h or --help returns flag.ErrHelp.
// It takes the seed's helm install
// line with `helm install` replaced by `autox generate`: up to two words
// (release name and chart) and --repo, --version are accepted and ignored.
func ParseArgs(args []string) (Args, error) {
	var a Args
	var words []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, value, hasValue := strings.Cut(arg, "=")
		if !strings.HasPrefix(arg, "-") {
			if len(words) == 2 {
				return a, badinput.Field("", fmt.Sprintf("unexpected argument %q; autox generate takes --set K=V and -f values.yaml (run autox generate -h)", arg))
			}
			words = append(words, arg)
			a.Ignored = append(a.Ignored, arg)
			continue
		}
		switch name {
		case "--set", "-f", "--values", "--repo", "--version":
		case "-h", "--help":
			return a, flag.ErrHelp
		default:
			return a, badinput.Field("", fmt.Sprintf("unknown flag %q; autox generate takes --set K=V and -f values.yaml, and ignores helm install's --repo and --version (run autox generate -h)", name))
		}
		if !hasValue {
			if i+1 == len(args) {
				return a, badinput.Field(name, "needs a value; write "+name+" "+flagExample(name))
			}
			i++
			value = args[i]
		}
		switch name {
		case "--set":
			a.Sets = append(a.Sets, value)
		case "-f", "--values":
			a.Files = append(a.Files, value)
		default:
			a.Ignored = append(a.Ignored, name+" "+value)
		}
	}
	return a, nil
}

func flagExample(flag string) string {
	switch flag {
	case "--set":
		return "groups.httpbin.trigger.name=httpbin"
	case "-f", "--values":
		return "values.yaml"
	}
	return "X (it is ignored)"
}

// FromArgs is autox generate: the YAML to apply, the notes on what was
// accepted but means nothing on Tekton (one line each, for stderr), and
// the error. On error the YAML is nil; the error is an
// *badinput.Error with every problem, one per line.
func FromArgs(args []string) (yamlDocs []byte, notes []string, err error) {
	a, err := ParseArgs(args)
	if err != nil {
		return nil, nil, err
	}
	return Generate(a)
}

// Generate reads the values a names and writes the Triggers and
// RoleBindings; see FromArgs.
func Generate(a Args) ([]byte, []string, error) {
	var notes []string
	if len(a.Ignored) > 0 {
		notes = append(notes, fmt.Sprintf("ignoring %s: helm install's release name, chart, --repo and --version mean nothing here; autox generate prints Triggers for kubectl apply -f -", strings.Join(a.Ignored, " ")))
	}
	root, more, probs := values(a)
	notes = append(notes, more...)
	specs, more, p := build(root)
	notes = append(notes, more...)
	probs = append(probs, p...)
	if len(probs) > 0 {
		return nil, notes, &badinput.Error{Problems: probs}
	}
	out, err := render(specs)
	if err != nil {
		return nil, notes, err
	}
	return out, notes, nil
}

// Object names a trigger object as the seed does.
type Object struct {
	Name      string
	Namespace string
	// Group is the API group, "" for the core group.
	Group    string
	Version  string
	Resource string
}

func (o Object) String() string {
	r := o.Resource
	if o.Group != "" {
		r += "." + o.Group
	}
	return fmt.Sprintf("%s %s/%s", r, o.Namespace, o.Name)
}

// Spec is one group and spec: one Trigger.
type Spec struct {
	Group, Spec string
	Trigger     Object
	// Experiment is the spec's values less runner.
	Experiment map[string]any
}

// reservedNamespaces are where autox watches and tests nothing: the
// cluster's own and autox's. A RoleBinding that autox generate prints
// there would let autox read them.
var reservedNamespaces = []string{"kube-system", "kube-public", "kube-node-lease", SystemNamespace, Namespace}

// reservedNamespace says why ns may not hold trigger or ready objects, or "".
func reservedNamespace(ns string) string {
	if !slices.Contains(reservedNamespaces, ns) {
		return ""
	}
	return fmt.Sprintf("%q is reserved (%s); autox watches and tests workloads in application namespaces only, where it is granted read access: deploy the workload in one", ns, strings.Join(reservedNamespaces, ", "))
}

// secretKind says why autox may not be granted reads of this kind, or "":
// the ClusterRole autox generate would print for it would let autox read
// Secrets (or a subresource) wherever its RoleBindings are.
func secretKind(group, resource string) string {
	switch {
	case group == "" && resource == "secrets":
		return `"secrets" would grant autox reads of every Secret in the namespace; autox watches workloads (a Deployment, a Knative Service, a custom resource), not Secrets: name one of those`
	case strings.Contains(resource, "/"):
		return fmt.Sprintf("%q is a subresource; name the resource itself, e.g. deployments", resource)
	}
	return ""
}

// dnsLabel is what group and spec must be: they become parts of Trigger
// and PipelineRun names and label values.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

const notDNSLabel = "is not a DNS label; use lower-case letters, digits and '-', starting and ending with a letter or digit"

var (
	topKeys     = []string{"groups"}
	groupKeys   = []string{"specs", "trigger"}
	triggerKeys = []string{"name", "namespace", "group", "version", "resource"}
	specKeys    = []string{"name", "values", "version"}
)

// build checks the merged values and returns the specs sorted by group
// and spec, the notes, and every problem.
func build(root map[string]any) ([]Spec, []string, []badinput.FieldError) {
	var b builder
	for _, k := range sortedKeys(root) {
		if k != "groups" {
			b.unknown(k, k, topKeys)
		}
	}
	groups, ok := root["groups"].(map[string]any)
	switch {
	case root["groups"] == nil || (ok && len(groups) == 0):
		b.add("groups", "no groups given; name the object and its experiment, e.g. --set groups.httpbin.trigger.name=httpbin (run autox generate -h for a whole example)")
		return nil, b.notes, b.probs
	case !ok:
		b.add("groups", fmt.Sprintf("%s is not a map; write groups.<group>.trigger and groups.<group>.specs.<spec>", describeValue(root["groups"])))
		return nil, b.notes, b.probs
	}
	owner := map[Object]string{}
	var out []Spec
	for _, g := range sortedKeys(groups) {
		path := "groups." + g
		if !dnsLabel.MatchString(g) {
			b.add(path, fmt.Sprintf("the group %q %s", g, notDNSLabel))
		}
		gm, ok := groups[g].(map[string]any)
		if !ok {
			b.add(path, fmt.Sprintf("%s is not a map; write %s.trigger.* and %s.specs.<spec>.values.*", describeValue(groups[g]), path, path))
			continue
		}
		for _, k := range sortedKeys(gm) {
			if !slices.Contains(groupKeys, k) {
				b.unknown(path+"."+k, k, groupKeys)
			}
		}
		obj, ok := b.trigger(path+".trigger", gm["trigger"])
		if ok {
			if first, dup := owner[obj]; dup {
				b.add(path+".trigger", fmt.Sprintf("names %s, as groups.%s.trigger does; an object belongs to one group, so move the specs of %q under groups.%s.specs", obj, first, g, first))
			} else {
				owner[obj] = g
			}
		}
		for _, s := range b.specs(path, g, gm["specs"]) {
			s.Trigger = obj
			out = append(out, s)
		}
	}
	return out, b.notes, b.probs
}

type builder struct {
	notes []string
	probs []badinput.FieldError
}

func (b *builder) add(path, msg string) {
	b.probs = append(b.probs, badinput.FieldError{Path: path, Message: msg})
}

func (b *builder) unknown(path, key string, known []string) {
	if best, ok := names.Closest(key, known, 3); ok {
		b.add(path, fmt.Sprintf("unknown key; did you mean %q?", best))
		return
	}
	b.add(path, "unknown key; known keys here are "+strings.Join(known, ", "))
}

// trigger checks a group's trigger object.
func (b *builder) trigger(path string, v any) (Object, bool) {
	const whole = "name the object whose version label launches runs, e.g. --set %[1]s.name=httpbin,%[1]s.namespace=default,%[1]s.group=apps,%[1]s.version=v1,%[1]s.resource=deployments"
	if v == nil {
		b.add(path, "missing; "+fmt.Sprintf(whole, path))
		return Object{}, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		b.add(path, fmt.Sprintf("%s is not a map; %s", describeValue(v), fmt.Sprintf(whole, path)))
		return Object{}, false
	}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(triggerKeys, k) {
			b.unknown(path+"."+k, k, triggerKeys)
		}
	}
	examples := map[string]string{"name": "httpbin", "namespace": "default", "group": "apps", "version": "v1", "resource": "deployments"}
	field := func(k string) (string, bool) {
		s, ok := scalarString(m[k])
		switch {
		case !ok:
			b.add(path+"."+k, fmt.Sprintf("%s is not a single value; write e.g. --set %s.%s=%s", describeValue(m[k]), path, k, examples[k]))
			return "", false
		case s == "" && k != "group":
			b.add(path+"."+k, fmt.Sprintf("missing; set it, e.g. --set %s.%s=%s (the trigger object is name, namespace, group, version and resource)", path, k, examples[k]))
			return "", false
		}
		return s, true
	}
	var o Object
	okAll := true
	for _, f := range []struct {
		key string
		dst *string
	}{{"name", &o.Name}, {"namespace", &o.Namespace}, {"group", &o.Group}, {"version", &o.Version}, {"resource", &o.Resource}} {
		s, ok := field(f.key)
		okAll = okAll && ok
		*f.dst = s
	}
	if o.Namespace != "" && !dnsLabel.MatchString(o.Namespace) {
		b.add(path+".namespace", fmt.Sprintf("the namespace %q %s", o.Namespace, notDNSLabel))
		okAll = false
	} else if msg := reservedNamespace(o.Namespace); msg != "" {
		b.add(path+".namespace", msg)
		okAll = false
	}
	if msg := secretKind(o.Group, o.Resource); msg != "" {
		b.add(path+".resource", msg)
		okAll = false
	}
	return o, okAll
}

// scalarString is a scalar value as the chart's templates would print it;
// a missing value is "".
func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case int64, bool:
		return fmt.Sprint(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

// specs checks a group's specs and their experiments.
func (b *builder) specs(path, group string, v any) []Spec {
	path += ".specs"
	m, ok := v.(map[string]any)
	if v == nil || (ok && len(m) == 0) {
		b.add(path, fmt.Sprintf("missing; a group needs at least one spec with its experiment, e.g. --set %s.iter8.values.tasks={ready,http,assess}", path))
		return nil
	}
	if !ok {
		b.add(path, fmt.Sprintf("%s is not a map; write %s.<spec>.values.*", describeValue(v), path))
		return nil
	}
	var out []Spec
	for _, s := range sortedKeys(m) {
		sp := path + "." + s
		if !dnsLabel.MatchString(s) {
			b.add(sp, fmt.Sprintf("the spec %q %s", s, notDNSLabel))
		}
		if n := len(group) + len(s); n > contract.MaxGroupSpecLength {
			b.add(sp, fmt.Sprintf("the group %q and spec %q are %d characters together; shorten them to %d at most so that run names fit 63 characters", group, s, n, contract.MaxGroupSpecLength))
		}
		sm, ok := m[s].(map[string]any)
		if !ok {
			b.add(sp, fmt.Sprintf("%s is not a map; write %s.values.*", describeValue(m[s]), sp))
			continue
		}
		for _, k := range sortedKeys(sm) {
			if !slices.Contains(specKeys, k) {
				b.unknown(sp+"."+k, k, specKeys)
			}
		}
		if _, ok := sm["name"]; ok {
			b.notes = append(b.notes, fmt.Sprintf("%s.name: ignored; autox names the Trigger autox-%s-%s after the group and spec", sp, group, s))
		}
		if v, ok := sm["version"]; ok {
			b.notes = append(b.notes, fmt.Sprintf("%s.version: ignored; %s was the Iter8 chart's version, and autox runs its own Task (autox-experiment) instead", sp, describeValue(v)))
		}
		exp, ok := b.experiment(sp+".values", sm["values"])
		if msg := reservedNamespace(readyNamespace(exp)); ok && msg != "" {
			b.add(sp+".values.ready.namespace", msg)
			ok = false
		}
		for i, k := range readyObjectKinds(exp) {
			if msg := secretKind(k.group, k.resource); ok && msg != "" {
				b.add(fmt.Sprintf("%s.values.ready.objects[%d].resource", sp, i), msg)
				ok = false
			}
		}
		if ok {
			out = append(out, Spec{Group: group, Spec: s, Experiment: exp})
		}
	}
	return out
}

// experiment checks a spec's values with the experiment parser, as autox
// run would, and returns them less runner.
func (b *builder) experiment(path string, v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if v == nil || (ok && len(m) == 0) {
		b.add(path, fmt.Sprintf("missing; the values are the experiment, e.g. --set %s.tasks={ready,http,assess} and its ready, http and assess keys", path))
		return nil, false
	}
	if !ok {
		b.add(path, fmt.Sprintf("%s is not a map; write the experiment as keys, e.g. %s.tasks={http,assess}", describeValue(v), path))
		return nil, false
	}
	decimalLimits(m)
	text, err := yaml.Marshal(m)
	if err != nil {
		b.add(path, fmt.Sprintf("cannot be written as YAML: %v", err))
		return nil, false
	}
	e, err := experiment.Parse(text, path)
	if err == nil {
		// The Trigger's runs read files only from the Task's workspace.
		err = e.CheckTaskFiles()
	}
	if err != nil {
		ie, ok := err.(*badinput.Error)
		if !ok {
			b.add(path, err.Error())
			return nil, false
		}
		for _, p := range ie.Problems {
			where := path
			if p.Path != "" {
				where += ": " + p.Path
			}
			b.add(where, p.Message)
		}
		return nil, false
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		if k == "runner" {
			// The parser accepts only job.
			b.notes = append(b.notes, fmt.Sprintf("%s.runner: ignored; autox runs the experiment once per version, as runner: job does", path))
			continue
		}
		out[k] = e
	}
	return out, true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// decimalLimits types the decimal strings among the experiment's limits
// as numbers: --set keeps 1.10 a string, as Helm does (it types whole
// numbers only), where a chart's template would turn it into the number
// its key needs. The limits are assess.SLOs.upper/lower,
// assess.regression.maxRatio and assess.regression.alpha; anything else
// stays as --set typed it.
func decimalLimits(exp map[string]any) {
	assess, _ := exp["assess"].(map[string]any)
	slos, _ := assess["SLOs"].(map[string]any)
	regression, _ := assess["regression"].(map[string]any)
	for _, limits := range []any{slos["upper"], slos["lower"], regression["maxRatio"]} {
		if m, ok := limits.(map[string]any); ok {
			for k, v := range m {
				m[k] = decimal(v)
			}
		}
	}
	if regression != nil {
		if v, ok := regression["alpha"]; ok {
			regression["alpha"] = decimal(v)
		}
	}
}

// decimal is s as a float64 when it is a finite decimal number (1.10,
// 0.01, 99.9), else v unchanged.
func decimal(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || strings.ContainsAny(s, "xXpP_") {
		return v
	}
	return f
}

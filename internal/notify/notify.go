// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package notify tells people how an autox run ended: a finally task of
// the autox Pipeline posts one message to a webhook (Slack's incoming
// webhook by default) with the group, the version, the verdict (PASS,
// FAIL, CANCELLED or ERROR), the SLOs that do not hold with what was
// observed, the run's name and a link to it in the Tekton Dashboard.
//
// The webhook comes from the Secret autox-notify (key url, optional key
// template) in the run's namespace; without that Secret notifications are
// off. The failing SLOs come from the result ConfigMap that assess keeps
// (internal/store), not from the Task's results: a failed TaskRun passes
// none on, and a finally task that names a missing result is skipped.
//
// A notification never changes the run's outcome: a webhook that refuses
// or does not answer is a warning. Bad settings (a Secret without url, a
// template that does not parse) are bad input, so that they are seen.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/template"
	"time"

	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/autox-tekton/autox/internal/badinput"
)

// The Secret that turns notifications on, and its keys.
const (
	SecretName  = "autox-notify"
	KeyURL      = "url"
	KeyTemplate = "template"
)

// Timeout bounds one delivery: connecting, sending, and the answer.
const Timeout = 10 * time.Second

// Verdicts.
const (
	Pass      = "PASS"
	Fail      = "FAIL"
	Cancelled = "CANCELLED"
	Error     = "ERROR"
)

// Execution states of a Tekton PipelineTask, as $(tasks.<name>.status)
// gives them, and the TaskRun reason of a cancel.
const (
	StatusSucceeded = "Succeeded"
	StatusFailed    = "Failed"
	StatusNone      = "None"
	ReasonCancelled = "TaskRunCancelled"
)

// Config is one notification's settings; main fills it from flags and
// the environment.
type Config struct {
	// URL is the webhook (the Secret's key url). Never logged: a webhook
	// URL is a secret; messages name its host only.
	URL string
	// Template renders the body, a Go text/template given a Message; ""
	// sends Slack's {"text": ...}.
	Template string
	// SecretKeys are the keys of the Secret autox-notify that the step
	// sees (their values are not kept here); nil when there is no Secret.
	// With no Secret and no URL, notifications are off.
	SecretKeys []string

	// Run is the PipelineRun; its name is also the result ConfigMap's.
	Run Run
	// Group, Spec and Version are the run's labels autox.dev/group,
	// autox.dev/spec and autox.dev/version, as the Pipeline's params give
	// them.
	Group, Spec, Version string
	// Status is how the experiment task ended.
	Status Status
	// DashboardURL is the Tekton Dashboard's address; "" links nothing.
	DashboardURL string
}

// Run names the PipelineRun.
type Run struct {
	Name, Namespace, UID string
}

// Status is how the experiment task ended, as Tekton tells finally tasks.
type Status struct {
	// Experiment is $(tasks.experiment.status): Succeeded, Failed or None
	// (it did not run).
	Experiment string
	// Reason is $(tasks.experiment.reason), the TaskRun's reason:
	// Succeeded, Failed (StepFailed after Tekton v1.9), TaskRunCancelled,
	// TaskRunTimeout, ...; may be "".
	Reason string
	// Tasks is $(tasks.status): Succeeded, Failed, Completed or None.
	Tasks string
}

// Off reports whether notifications are off: no Secret, no URL.
func (c Config) Off() bool { return c.URL == "" && c.SecretKeys == nil }

// OffLine is the one line a step with notifications off prints.
func (c Config) OffLine() string {
	return fmt.Sprintf("notifications are off: no Secret %s in namespace %s; create it with the webhook URL in key %s to turn them on", SecretName, orUnknown(c.Run.Namespace), KeyURL)
}

func orUnknown(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// source names where a setting came from, for messages: the Secret's key
// in a Task, the flag on a laptop.
func (c Config) source(key string) string {
	if c.SecretKeys != nil {
		return fmt.Sprintf("Secret %s, key %s", SecretName, key)
	}
	return "-" + key
}

// Validate checks every setting, each problem naming its field and the
// fix; the webhook URL is never shown. The template is parsed and tried
// on a sample message, so that a typo fails before any I/O.
func (c Config) Validate() error {
	var problems []badinput.FieldError
	add := func(path, msg string) { problems = append(problems, badinput.FieldError{Path: path, Message: msg}) }
	switch {
	case c.URL == "" && c.SecretKeys != nil && !slices.Contains(c.SecretKeys, KeyURL):
		keys := "none"
		if len(c.SecretKeys) > 0 {
			keys = strings.Join(c.SecretKeys, ", ")
		}
		add("Secret "+SecretName, fmt.Sprintf("no key %s (its keys: %s); add the webhook URL: kubectl create secret generic %s -n %s --from-literal=%s=https://hooks.slack.com/services/...", KeyURL, keys, SecretName, orUnknown(c.Run.Namespace), KeyURL))
	case c.URL == "":
		add(c.source(KeyURL), "empty; set it to the webhook URL, https://host/path")
	default:
		if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add(c.source(KeyURL), "not an http(s) URL (not shown: a webhook URL is a secret); write https://host/path")
		}
	}
	if c.Template != "" {
		if _, err := render(c.Template, sample()); err != nil {
			add(c.source(KeyTemplate), err.Error())
		}
	}
	if c.DashboardURL != "" {
		if u, err := url.Parse(c.DashboardURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("dashboard-url", fmt.Sprintf("%q is not an http(s) URL; write the Tekton Dashboard's address, e.g. https://tekton.example.com, or \"\" for no link", c.DashboardURL))
		}
	}
	if c.Run.Name == "" {
		add("-pipelinerun", "missing; pass the PipelineRun's name ($(context.pipelineRun.name))")
	}
	if c.Run.Namespace == "" {
		add("-namespace", "missing; pass the PipelineRun's namespace ($(context.pipelineRun.namespace))")
	}
	switch c.Status.Experiment {
	case StatusSucceeded, StatusFailed, StatusNone:
	default:
		add("-experiment-status", fmt.Sprintf("%q is not Succeeded, Failed or None; pass $(tasks.experiment.status)", c.Status.Experiment))
	}
	if len(problems) > 0 {
		return &badinput.Error{Problems: problems}
	}
	return nil
}

// Notifier sends notifications. Every dependency is a field.
type Notifier struct {
	// ConfigMaps connects to the cluster, once notifications are on and
	// the settings valid, to read the result ConfigMap.
	ConfigMaps func() (corev1client.ConfigMapsGetter, error)
	// HTTP posts the body; nil is a client of its own. Its redirects are
	// not followed either way: a 3xx is not a delivery.
	HTTP *http.Client
	// Timeout bounds one delivery; 0 is Timeout.
	Timeout time.Duration
	// Stdout receives the message as text, for the step's log.
	Stdout io.Writer
	// Log receives one line per event.
	Log *slog.Logger
}

// Run sends the notification for cfg. It returns bad input (exit 2) for
// bad settings and an error (exit 3) when stopped; a webhook that refuses
// is a warning in the log, and Run returns nil.
func (n Notifier) Run(ctx context.Context, cfg Config) error {
	if cfg.Off() {
		n.Log.Info(cfg.OffLine())
		return nil
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	cms, err := n.ConfigMaps()
	if err != nil {
		return err
	}
	stored, err := readResult(ctx, cms, cfg.Run)
	if err != nil {
		return err
	}
	if stored.warning != "" {
		n.Log.Warn(stored.warning)
	}
	msg := compose(cfg, stored)
	body, err := n.body(cfg, msg)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(n.Stdout, msg.Text); err != nil {
		return fmt.Errorf("printing the message: %w", err)
	}
	return n.post(ctx, cfg.URL, body, msg)
}

func (n Notifier) body(cfg Config, msg Message) ([]byte, error) {
	if cfg.Template == "" {
		return json.Marshal(map[string]string{"text": slackText(msg)})
	}
	b, err := render(cfg.Template, msg)
	if err != nil {
		return nil, badinput.Field(cfg.source(KeyTemplate), err.Error())
	}
	return b, nil
}

// render executes a body template on m; the body must be JSON.
func render(text string, m Message) ([]byte, error) {
	t, err := template.New(KeyTemplate).Option("missingkey=error").Funcs(template.FuncMap{"json": toJSON}).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("does not parse: %v; fix the template (its data: the notify.Message fields, e.g. {{json .Text}})", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, m); err != nil {
		return nil, fmt.Errorf("does not run: %v; fix the template (its data: the notify.Message fields, e.g. {{json .Text}})", err)
	}
	if !json.Valid(b.Bytes()) {
		return nil, fmt.Errorf("renders a body that is not JSON; quote text with the json function, e.g. {\"text\": {{json .Text}}}")
	}
	return b.Bytes(), nil
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// post delivers body. Only a stop is an error; every other failure is a
// warning that names the webhook's host, never its URL.
func (n Notifier) post(ctx context.Context, webhook string, body []byte, msg Message) error {
	u, _ := url.Parse(webhook) // validated
	host := u.Host
	timeout := n.Timeout
	if timeout == 0 {
		timeout = Timeout
	}
	client := http.Client{Timeout: timeout}
	if n.HTTP != nil {
		client = *n.HTTP
		client.Timeout = timeout
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("making the request to the webhook at %s: %s", host, hide(err.Error(), webhook, host))
	}
	req.Header.Set("Content-Type", "application/json")
	const unchanged = "; the run's outcome does not change"
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped (%w) while sending the notification to the webhook at %s; it may not have arrived", context.Cause(ctx), host)
		}
		var ue *url.Error
		if errors.As(err, &ue) && ue.Timeout() {
			n.Log.Warn(fmt.Sprintf("notification not sent: the webhook at %s gave no answer within %s%s", host, timeout, unchanged))
			return nil
		}
		if ue != nil {
			err = ue.Err // its text would carry the whole URL
		}
		n.Log.Warn(fmt.Sprintf("notification not sent: the webhook at %s could not be reached (%s)%s", host, hide(err.Error(), webhook, host), unchanged))
		return nil
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		said := ""
		if a := firstLine(string(answer)); a != "" {
			said = fmt.Sprintf(" (%q)", a)
		}
		n.Log.Warn(fmt.Sprintf("notification not sent: the webhook at %s answered %s%s%s", host, resp.Status, said, unchanged))
		return nil
	}
	n.Log.Info(fmt.Sprintf("notification sent to the webhook at %s (%s): %s", host, resp.Status, msg.Headline()))
	return nil
}

// hide replaces the webhook URL in s by its host.
func hide(s, webhook, host string) string { return strings.ReplaceAll(s, webhook, host) }

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

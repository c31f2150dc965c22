// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package ready is the ready step. Its Checker waits until Kubernetes
// objects are ready: a Deployment Available, a Service with ready
// endpoints, a Knative Service or KServe InferenceService Ready, or any
// object (with an optional condition). It watches rather than polls, says
// what it waits for, fails fast when it may not read an object, and on
// timeout says what was not ready and why. Step connects to the cluster,
// waits, and records in <dir>/ready.metrics.json that the task completed,
// or why it failed. It links client-go, and neither load generator
// (cmd/deps_test.go).
package ready

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	authv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
)

// Checker waits for objects with the clients it holds.
type Checker struct {
	Dynamic dynamic.Interface
	Kube    kubernetes.Interface
	// Mapper tells served resources from unknown ones.
	Mapper meta.RESTMapper
	Log    *slog.Logger
	// Dial connects to a Service's cluster IP once its endpoints are
	// ready; nil means a net.Dialer.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// dialEvery is how often a Service that does not take connections yet is
// tried again.
const dialEvery = 200 * time.Millisecond

// ErrNotReady is wrapped by the error of a wait that timed out.
var ErrNotReady = errors.New("not ready")

// Wait waits for every object, all at once, for at most timeout. An object
// that cannot be read (forbidden, unknown resource) fails at once.
func (c *Checker) Wait(ctx context.Context, namespace string, waits []experiment.Wait, timeout time.Duration) error {
	if err := c.check(ctx, namespace, waits); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped (%w) while checking that the objects can be read", context.Cause(ctx))
		}
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	errs := make([]error, len(waits))
	var wg sync.WaitGroup
	for i, w := range waits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.waitOne(ctx, namespace, w, timeout, start)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// check settles, before any waiting, that every resource is served and
// that we may get, list and watch it: such problems never heal by waiting.
func (c *Checker) check(ctx context.Context, namespace string, waits []experiment.Wait) error {
	var errs []error
	for _, w := range waits {
		gvr := schema.GroupVersionResource{Group: w.Group, Version: w.Version, Resource: w.Resource}
		if _, err := c.Mapper.KindFor(gvr); err != nil {
			errs = append(errs, badinput.Field(w.Path, fmt.Sprintf("%q is not a resource the API server serves (group %q, version %q); check the spelling, or install its CRD", w.Resource, w.Group, w.Version)))
			continue
		}
		resources := []schema.GroupVersionResource{gvr}
		if w.Endpoints {
			resources = append(resources, endpointSlices)
		}
		for _, r := range resources {
			if err := c.mayRead(ctx, namespace, r); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// mayRead lists the resource (a real request: its Forbidden error is the
// one the user needs) and asks whether we may watch it.
func (c *Checker) mayRead(ctx context.Context, namespace string, r schema.GroupVersionResource) error {
	_, err := c.Dynamic.Resource(r).Namespace(namespace).List(ctx, metav1.ListOptions{Limit: 1})
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("%w; grant get, list and watch on %s to the step's ServiceAccount", err, groupResource(r))
	}
	if err != nil {
		return fmt.Errorf("listing %s in %s: %w", groupResource(r), namespace, err)
	}
	review := &authv1.SelfSubjectAccessReview{Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authv1.ResourceAttributes{
		Namespace: namespace, Verb: "watch", Group: r.Group, Version: r.Version, Resource: r.Resource,
	}}}
	res, err := c.Kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("asking whether we may watch %s: %w", groupResource(r), err)
	}
	if !res.Status.Allowed {
		return fmt.Errorf("may list but not watch %s in namespace %s; grant watch to the step's ServiceAccount", groupResource(r), namespace)
	}
	return nil
}

var endpointSlices = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}

func groupResource(r schema.GroupVersionResource) string {
	if r.Group == "" {
		return r.Resource
	}
	return r.Resource + "." + r.Group
}

// waitOne watches one object until it is ready, and on timeout explains
// the last state it saw.
func (c *Checker) waitOne(ctx context.Context, namespace string, w experiment.Wait, timeout time.Duration, start time.Time) error {
	id := fmt.Sprintf("%s %s/%s", w.Kind, namespace, w.Name)
	want := "to exist"
	switch {
	case w.Condition != "":
		want = "to be " + w.Condition
	case w.Endpoints:
		want = "to have ready endpoints"
	}
	c.Log.Info(fmt.Sprintf("ready: waiting for %s %s (timeout %s)", id, want, timeout))
	gvr := schema.GroupVersionResource{Group: w.Group, Version: w.Version, Resource: w.Resource}
	state := "not read yet"
	var last *unstructured.Unstructured
	byName := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", w.Name).String()}
	if err := c.until(ctx, namespace, gvr, byName, func(list []*unstructured.Unstructured) bool {
		if len(list) == 0 {
			state = "not found"
			return false
		}
		last = list[0]
		ok, why := objectReady(list[0], w)
		state = why
		return ok
	}); err != nil {
		return c.notReady(ctx, namespace, id, state, last, timeout, err)
	}
	if w.Endpoints {
		state = "no EndpointSlice (does its selector match any pod?)"
		byService := metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + w.Name}
		if err := c.until(ctx, namespace, endpointSlices, byService, func(list []*unstructured.Unstructured) bool {
			ok, why := endpointsReady(list)
			state = why
			return ok
		}); err != nil {
			return c.notReady(ctx, namespace, id, state, nil, timeout, err)
		}
		if err := c.connects(ctx, last, &state); err != nil {
			return c.notReady(ctx, namespace, id, state, nil, timeout, err)
		}
	}
	c.Log.Info(fmt.Sprintf("ready: %s is ready (%.1fs)", id, time.Since(start).Seconds()))
	return nil
}

// connects waits until every TCP port of svc takes a connection at the
// Service's cluster IP: ready endpoints do not mean kube-proxy has
// programmed the Service's rules yet, and a load step that starts a moment
// too early sees its first requests fail. A Service without a cluster IP
// (headless, ExternalName) has nothing to connect to and passes. No data
// is sent: each connection is closed at once.
func (c *Checker) connects(ctx context.Context, svc *unstructured.Unstructured, state *string) error {
	ip, _, _ := unstructured.NestedString(svc.Object, "spec", "clusterIP")
	if ip == "" || ip == "None" {
		return nil
	}
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	var addrs []string
	for _, p := range ports {
		m, _ := p.(map[string]any)
		if proto, _ := m["protocol"].(string); proto != "" && proto != "TCP" {
			continue
		}
		// int64 from the API server; float64 from a plain YAML or JSON decode.
		switch port := m["port"].(type) {
		case int64:
			addrs = append(addrs, net.JoinHostPort(ip, strconv.FormatInt(port, 10)))
		case float64:
			addrs = append(addrs, net.JoinHostPort(ip, strconv.FormatInt(int64(port), 10)))
		}
	}
	dial := c.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	for _, addr := range addrs {
		for {
			attempt, cancel := context.WithTimeout(ctx, time.Second)
			conn, err := dial(attempt, "tcp", addr)
			cancel()
			if err == nil {
				conn.Close()
				break
			}
			*state = fmt.Sprintf("has ready endpoints, but its cluster IP does not take connections yet (%v)", err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(dialEvery):
			}
		}
	}
	return nil
}

// notReady says what was not ready and why: the object's last state and,
// for a workload, why its pods are not running.
func (c *Checker) notReady(ctx context.Context, namespace, id, state string, last *unstructured.Unstructured, timeout time.Duration, err error) error {
	if ctx.Err() == nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		// Stopped from outside (SIGTERM: Tekton's cancel or timeout).
		return fmt.Errorf("%s: stopped waiting (%w); last seen: %s", id, context.Cause(ctx), state)
	}
	msg := fmt.Sprintf("%s: %s after %s", id, state, timeout)
	if last != nil {
		if pods := c.podTrouble(namespace, last); pods != "" {
			msg += "; " + pods
		}
	}
	return fmt.Errorf("%w: %s", ErrNotReady, msg)
}

// podTrouble names, best effort, why the pods a workload selects are not
// running (ErrImageNeverPull, CrashLoopBackOff ...).
func (c *Checker) podTrouble(namespace string, obj *unstructured.Unstructured) string {
	labels, ok, _ := unstructured.NestedStringMap(obj.Object, "spec", "selector", "matchLabels")
	if !ok || len(labels) == 0 {
		return ""
	}
	var sel []string
	for k, v := range labels {
		sel = append(sel, k+"="+v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pods, err := c.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: strings.Join(sel, ",")})
	if err != nil {
		return ""
	}
	var out []string
	for _, p := range pods.Items {
		for _, cs := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
			if cs.State.Waiting != nil && cs.State.Waiting.Reason != "" {
				out = append(out, fmt.Sprintf("pod %s container %s is waiting: %s", p.Name, cs.Name, cs.State.Waiting.Reason))
			}
		}
		if len(p.Status.ContainerStatuses) == 0 && p.Status.Phase == "Pending" {
			for _, cond := range p.Status.Conditions {
				if cond.Status != "True" && cond.Reason != "" {
					out = append(out, fmt.Sprintf("pod %s is pending: %s", p.Name, cond.Reason))
				}
			}
		}
	}
	if len(out) > 3 {
		out = append(out[:3], fmt.Sprintf("and %d more", len(out)-3))
	}
	return strings.Join(out, "; ")
}

// until watches the objects opts selects and calls ready with the current
// set after every change, until it returns true or ctx ends.
func (c *Checker) until(ctx context.Context, namespace string, gvr schema.GroupVersionResource, opts metav1.ListOptions, ready func([]*unstructured.Unstructured) bool) error {
	client := c.Dynamic.Resource(gvr).Namespace(namespace)
	lw := &cache.ListWatch{
		ListFunc: func(o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector, o.LabelSelector = opts.FieldSelector, opts.LabelSelector
			return client.List(ctx, o)
		},
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector, o.LabelSelector = opts.FieldSelector, opts.LabelSelector
			return client.Watch(ctx, o)
		},
	}
	// The precondition sees the informer's store once it has synced; each
	// later event is judged against the same store.
	var store cache.Store
	current := func() bool {
		var list []*unstructured.Unstructured
		for _, o := range store.List() {
			list = append(list, o.(*unstructured.Unstructured))
		}
		return ready(list)
	}
	_, err := watchtools.UntilWithSync(ctx, lw, &unstructured.Unstructured{}, func(s cache.Store) (bool, error) {
		store = s
		return current(), nil
	}, func(watch.Event) (bool, error) { return current(), nil })
	return err
}

// objectReady reports whether obj meets w and, either way, its state in words.
func objectReady(obj *unstructured.Unstructured, w experiment.Wait) (bool, string) {
	if w.Condition == "" {
		return true, "exists"
	}
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] != w.Condition {
			continue
		}
		status, _ := m["status"].(string)
		why := fmt.Sprintf("%s=%s", w.Condition, status)
		if reason, _ := m["reason"].(string); reason != "" {
			why += " (" + reason + ")"
		}
		if msg, _ := m["message"].(string); msg != "" && status != "True" {
			why += ": " + msg
		}
		return status == "True", why
	}
	return false, fmt.Sprintf("no %s condition yet", w.Condition)
}

// endpointsReady reports whether the service's EndpointSlices hold a ready
// endpoint.
func endpointsReady(slices []*unstructured.Unstructured) (bool, string) {
	found, total := false, 0
	for _, s := range slices {
		found = true
		eps, _, _ := unstructured.NestedSlice(s.Object, "endpoints")
		for _, e := range eps {
			m, _ := e.(map[string]any)
			total++
			if ready, ok, _ := unstructured.NestedBool(m, "conditions", "ready"); ok && ready {
				return true, "has ready endpoints"
			}
		}
	}
	if !found {
		return false, "no EndpointSlice (does its selector match any pod?)"
	}
	return false, fmt.Sprintf("0 of %d endpoints ready", total)
}

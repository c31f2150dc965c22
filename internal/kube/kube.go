// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package kube finds the cluster a step talks to: in a pod, the pod's own
// service account; elsewhere, the kubeconfig (-kubeconfig, $KUBECONFIG,
// ~/.kube/config), with a clear error when there is none. It also routes
// client-go's own log lines (klog) to the step's logger.
package kube

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/inputfile"
)

// Kubeconfig says where the cluster is when not in a pod, as kubectl
// reads it. main fills it from the flag and the environment.
type Kubeconfig struct {
	// File is one kubeconfig file (-kubeconfig); when set, it is the only
	// one read, and it must exist.
	File string
	// Files is $KUBECONFIG: paths joined by the OS list separator (":"),
	// merged in order (the first file to set a value wins); missing files
	// are skipped.
	Files string
	// Home is the user's home folder: without File and Files,
	// Home/.kube/config is read. "" skips it.
	Home string
	// QPS and Burst, when set, replace client-go's client-side rate limit
	// (5 requests/s, bursts of 10): a controller that writes a record and
	// cancels a run per event would queue behind it.
	QPS   float32
	Burst int
}

// source names where the configuration came from, for messages.
func (k Kubeconfig) source() string {
	switch {
	case k.File != "":
		return "-kubeconfig"
	case k.Files != "":
		return "KUBECONFIG"
	}
	return "~/.kube/config"
}

func (k Kubeconfig) rules() *clientcmd.ClientConfigLoadingRules {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: k.File}
	switch {
	case k.Files != "":
		// As clientcmd.NewDefaultClientConfigLoadingRules does with
		// $KUBECONFIG, which it reads itself; main reads it for us.
		for _, p := range filepath.SplitList(k.Files) {
			if !slices.Contains(rules.Precedence, p) {
				rules.Precedence = append(rules.Precedence, p)
			}
		}
		rules.WarnIfAllMissing = true
	case k.Home != "":
		rules.Precedence = []string{filepath.Join(k.Home, clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)}
	}
	return rules
}

// checkFiles refuses, before client-go reads them whole, the kubeconfig
// files that are not regular files (KUBECONFIG=/dev/zero) or are larger
// than inputfile.MaxKubeconfig. A file that does not exist is left to
// client-go, which skips it in $KUBECONFIG and names it otherwise.
func (k Kubeconfig) checkFiles() error {
	var field string
	var paths []string
	switch {
	case k.File != "":
		field, paths = "-kubeconfig", []string{k.File}
	case k.Files != "":
		field, paths = "KUBECONFIG", filepath.SplitList(k.Files)
	case k.Home != "":
		field, paths = "~/.kube/config", []string{filepath.Join(k.Home, clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)}
	}
	for _, p := range paths {
		var refused *inputfile.RefusedError
		if err := inputfile.Check(p, inputfile.MaxKubeconfig); errors.As(err, &refused) {
			return badinput.Field(field, fmt.Sprintf("%q cannot be a kubeconfig: %v; name a kubeconfig file of at most %s", p, err, inputfile.Size(inputfile.MaxKubeconfig)))
		}
	}
	return nil
}

// Clients are what steps use to read the cluster.
type Clients struct {
	Config    *rest.Config
	Dynamic   dynamic.Interface
	Kube      kubernetes.Interface
	Mapper    *restmapper.DeferredDiscoveryRESTMapper
	Namespace string
}

// Connect loads the configuration and makes clients. With no kubeconfig
// at all, the pod's service account is used (in a pod).
func Connect(k Kubeconfig) (*Clients, error) {
	if err := k.checkFiles(); err != nil {
		return nil, err
	}
	rules := k.rules()
	var missing error
	rules.Warner = func(err error) { missing = err } // no file of Files exists
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	cfg, err := cc.ClientConfig()
	if err != nil {
		switch {
		case clientcmd.IsEmptyConfig(err) && missing != nil:
			return nil, badinput.Field("KUBECONFIG", fmt.Sprintf("no cluster to talk to: not in a pod, and no file KUBECONFIG names exists (%v); fix KUBECONFIG or pass -kubeconfig", missing))
		case clientcmd.IsEmptyConfig(err):
			return nil, badinput.Field("", "no cluster to talk to: not in a pod and no kubeconfig; set KUBECONFIG, pass -kubeconfig, or write ~/.kube/config")
		}
		return nil, badinput.Field(k.source(), fmt.Sprintf("cannot be used: %v; fix the kubeconfig or name another", err))
	}
	ns, _, err := cc.Namespace()
	if err != nil || ns == "" {
		ns = "default"
	}
	cfg.UserAgent = "autox"
	if k.QPS > 0 {
		cfg.QPS, cfg.Burst = k.QPS, k.Burst
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Clients{Config: cfg, Dynamic: dyn, Kube: kc, Mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), Namespace: ns}, nil
}

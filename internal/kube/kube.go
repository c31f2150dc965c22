// Package kube finds the cluster a step talks to: in a pod, the pod's own
// service account; elsewhere, the kubeconfig (--kubeconfig, $KUBECONFIG,
// ~/.kube/config), with a clear error when there is none.
package kube

import (
	"fmt"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/autox-tekton/autox/internal/experiment"
)

// Clients are what steps use to read the cluster.
type Clients struct {
	Config    *rest.Config
	Dynamic   dynamic.Interface
	Kube      kubernetes.Interface
	Mapper    *restmapper.DeferredDiscoveryRESTMapper
	Namespace string
}

// Connect loads the configuration (kubeconfig may be "") and makes clients.
func Connect(kubeconfig string) (*Clients, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	cfg, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, experiment.Fieldf("", "no cluster to talk to: not in a pod and no kubeconfig; set KUBECONFIG, pass -kubeconfig, or write ~/.kube/config")
		}
		return nil, experiment.Fieldf("kubeconfig", fmt.Sprintf("cannot be used: %v; check the file KUBECONFIG or -kubeconfig names", err))
	}
	ns, _, err := cc.Namespace()
	if err != nil || ns == "" {
		ns = "default"
	}
	cfg.UserAgent = "autox"
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

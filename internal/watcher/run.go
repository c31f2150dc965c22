package watcher

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/kube"
)

// Config is what the watcher program is told.
type Config struct {
	// EventListenerURL receives the events; "" means the autox
	// EventListener's Service in Namespace
	// (http://el-autox.<namespace>.svc.cluster.local:8080).
	EventListenerURL string
	// Namespace holds the autox EventListener and its Triggers; "" means
	// the pod's namespace (or the kubeconfig context's).
	Namespace string
	// Resync re-sends every watched object's state this often; 0 never
	// (the state is still sent on start and on every re-list).
	Resync     time.Duration
	Kubeconfig kube.Kubeconfig
}

// DefaultResync is how often every watched object's state is posted
// again: a safety net under the level-triggered design, cheap because the
// interceptor decides from its cache and dedupes.
const DefaultResync = 5 * time.Minute

// postTimeout bounds one post to the EventListener, which answers as soon
// as it has read the event (202), before any interceptor runs.
const postTimeout = 10 * time.Second

// Validate checks what can be checked before connecting; each problem
// names the flag.
func (c Config) Validate() error {
	if c.EventListenerURL != "" {
		u, err := url.Parse(c.EventListenerURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return experiment.Fieldf("-eventlistener-url", fmt.Sprintf("%q is not an http(s) URL; write http://host[:port][/path], e.g. http://el-autox.autox.svc.cluster.local:8080", c.EventListenerURL))
		}
	}
	if c.Resync < 0 {
		return experiment.Fieldf("-resync", fmt.Sprintf("%q is negative; write a duration such as 5m, or 0 to send the state only on start and re-list", c.Resync))
	}
	return nil
}

// Run connects to the cluster and watches until ctx ends (then nil). It
// fails when the cluster cannot be reached or its Triggers not read.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	clients, err := kube.Connect(cfg.Kubeconfig)
	if err != nil {
		return err
	}
	ns := cfg.Namespace
	if ns == "" {
		ns = clients.Namespace
	}
	target := cfg.EventListenerURL
	if target == "" {
		target = "http://el-autox." + ns + ".svc.cluster.local:8080"
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	poster := NewPoster(target, &http.Client{Timeout: postTimeout, Transport: transport}, log)
	w := &Watcher{
		Dynamic:   clients.Dynamic,
		Access:    &ClusterAccess{Mapper: clients.Mapper, Kube: clients.Kube, Account: "the watcher's ServiceAccount"},
		Namespace: ns,
		Resync:    cfg.Resync,
		Send:      poster,
		Log:       log,
	}
	log.Info(fmt.Sprintf("posting to the EventListener at %s", target))
	var wg sync.WaitGroup
	pctx, stopPoster := context.WithCancel(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		poster.Run(pctx)
	}()
	err = w.Run(ctx)
	stopPoster()
	wg.Wait()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("%w; Tekton Triggers must be installed, and triggers/watcher.yaml applied in namespace %s", err, ns)
	}
	if n := poster.Pending(); n > 0 {
		log.Info(fmt.Sprintf("stopped (%v) with the events of %d objects not posted; the next start posts every object's state", context.Cause(ctx), n))
	} else {
		log.Info(fmt.Sprintf("stopped (%v)", context.Cause(ctx)))
	}
	return nil
}

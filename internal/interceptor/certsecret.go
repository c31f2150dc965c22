// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/utils/clock"
)

// certSecret keeps the serving certificate in the Secret and the CAs in
// the ClusterInterceptor's caBundle. Every replica runs one on the same
// Secret; each step reads the Secret, makes at most one write with its
// resourceVersion (a replica that loses reads again and serves the
// winner's certificate), and serves what the Secret holds. The Secret
// goes through these states:
//
//   - empty, or holding no usable certificate (not PEM, a key that does
//     not match, expired, for other names, not signed by a CA in
//     ca-cert.pem): when this replica serves a certificate still valid,
//     it is written back and a new one made next (as in a rotation, so
//     no event is refused), with a warning; else a new CA and
//     certificate are written and served at once (a warning unless the
//     Secret was empty);
//   - serving: when the certificate has less than rotateBefore left, or
//     lives longer than the lifetime allows (one made by Triggers'
//     helpers lives 100 years), the next certificate and its CA are made
//     and the CA added to ca-cert.pem;
//   - next made: ca-cert.pem is copied to the ClusterInterceptor's
//     caBundle, and the time it was seen there written to the Secret;
//     caPropagation later, the next certificate is served (or when the
//     served one expires, should that come first).
//
// Besides the certificate served (written back should the Secret lose
// it), nothing is kept in memory: the Secret is the state, and a replica
// started at any point takes up from it.
type certSecret struct {
	secrets corev1client.SecretInterface
	// setCABundle makes the ClusterInterceptor's caBundle want; it
	// reports whether the caBundle held ca before (ca may be nil).
	setCABundle func(ctx context.Context, want []byte, ca *x509.Certificate) (bool, error)
	namespace   string
	name        string
	// names are the DNS names the certificate is for.
	names    []string
	lifetime time.Duration
	// refresh is the longest time between two steps.
	refresh time.Duration
	clock   clock.Clock
	log     *slog.Logger

	// ready is closed when a certificate is first served (make it).
	ready   chan struct{}
	serving atomic.Pointer[held]
	once    sync.Once
	lastErr atomic.Pointer[error]
}

// getCertificate is tls.Config.GetCertificate: what the Secret last held.
func (c *certSecret) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if h := c.serving.Load(); h != nil {
		return h.pair, nil
	}
	return nil, fmt.Errorf("no certificate yet in Secret %s", c.ref())
}

func (c *certSecret) ref() string { return c.namespace + "/" + c.name }

// held is the certificate served, as the Secret held it.
type held struct {
	pair            *tls.Certificate
	ca              *x509.Certificate
	certPEM, keyPEM []byte
}

// secretState is what a Secret holds, checked.
type secretState struct {
	sec *corev1.Secret
	// bundle is ca-cert.pem, nil when it is not a bundle of CAs.
	bundle []*x509.Certificate
	// current is the served certificate and its CA; nil with why.
	current     *tls.Certificate
	currentCA   *x509.Certificate
	currentWhy  string
	empty       bool
	next        *tls.Certificate
	nextCA      *x509.Certificate
	nextWhy     string // why a next certificate present is dropped
	published   time.Time
	publishedOK bool
}

func (c *certSecret) read(sec *corev1.Secret, now time.Time) secretState {
	st := secretState{sec: sec, empty: len(sec.Data[keyServerCert]) == 0 && len(sec.Data[keyServerKey]) == 0 && len(sec.Data[keyCABundle]) == 0}
	bundle, bundleErr := parseBundle(sec.Data[keyCABundle])
	st.bundle = bundle
	switch {
	case st.empty:
		st.currentWhy = "it is empty"
	case bundleErr != nil:
		st.currentWhy = bundleErr.Error()
	default:
		var err error
		st.current, st.currentCA, err = checkPair(sec.Data[keyServerCert], sec.Data[keyServerKey], bundle, c.names, now, now.Add(clockSkew))
		if err != nil {
			st.currentWhy = err.Error()
		}
	}
	if len(sec.Data[keyNextCert]) > 0 || len(sec.Data[keyNextKey]) > 0 {
		var err error
		// A next certificate is valid from caPropagation after it was
		// made; one starting much later was not made here.
		st.next, st.nextCA, err = checkPair(sec.Data[keyNextCert], sec.Data[keyNextKey], bundle, c.names, now, now.Add(caPropagation+clockSkew))
		if err != nil {
			st.nextWhy = "the next certificate: " + err.Error()
		}
	}
	if v, ok := sec.Annotations[publishedAnnotation]; ok {
		t, err := time.Parse(time.RFC3339Nano, v)
		st.published, st.publishedOK = t, err == nil && !t.After(now)
	}
	return st
}

// errAgain says a step wrote the Secret and must read it again.
var errAgain = errors.New("written; read again")

// step brings the Secret one or more states forward and returns when to
// step next.
func (c *certSecret) step(ctx context.Context) time.Time {
	retry := min(c.refresh, 10*time.Second)
	for range 8 {
		now := c.clock.Now()
		sec, err := c.secrets.Get(ctx, c.name, metav1.GetOptions{})
		if err != nil {
			c.failed(ctx, fmt.Errorf("reading Secret %s: %w", c.ref(), err), retry)
			return now.Add(retry)
		}
		next, err := c.advance(ctx, c.read(sec, now), now)
		switch {
		case errors.Is(err, errAgain):
			continue
		case apierrors.IsConflict(err):
			c.log.Info("the certificate Secret changed under this replica; reading it again", "secret", c.ref())
			continue
		case err != nil:
			c.failed(ctx, err, retry)
			return now.Add(retry)
		}
		c.lastErr.Store(nil)
		if next.IsZero() || next.Sub(now) > c.refresh {
			next = now.Add(c.refresh)
		}
		return next
	}
	return c.clock.Now().Add(retry)
}

func (c *certSecret) failed(ctx context.Context, err error, retry time.Duration) {
	if ctx.Err() != nil {
		return
	}
	c.lastErr.Store(&err)
	c.log.Warn(err.Error()+"; retry in "+retry.String(), "secret", c.ref())
}

// advance makes at most one write (then errAgain) or, the Secret being as
// it should, serves it and returns when it next needs a write.
func (c *certSecret) advance(ctx context.Context, st secretState, now time.Time) (time.Time, error) {
	if st.current == nil {
		if st.next != nil && !st.next.Leaf.NotBefore.After(now.Add(clockSkew)) {
			c.log.Warn("the served certificate is unusable ("+st.currentWhy+"); serving the next one early", "secret", c.ref())
			return time.Time{}, c.promote(ctx, st, now)
		}
		if h := c.serving.Load(); h != nil && now.Add(clockSkew).Before(h.pair.Leaf.NotAfter) {
			made, err := issue(c.names, nextStart(now, h.pair.Leaf), c.lifetime)
			if err != nil {
				return time.Time{}, err
			}
			c.log.Warn("the certificate Secret holds no usable certificate ("+st.currentWhy+"); writing back the one served, and a new one to serve once its CA has been in the caBundle for "+caPropagation.String(), "secret", c.ref())
			return time.Time{}, c.write(ctx, st.sec, map[string][]byte{
				keyServerCert: h.certPEM, keyServerKey: h.keyPEM,
				keyCABundle: bundleWith(now, c.names, st.bundle, made.ca, h.ca),
				keyNextCert: made.certPEM, keyNextKey: made.keyPEM,
			}, "")
		}
		made, err := issue(c.names, now.Add(-clockSkew), c.lifetime)
		if err != nil {
			return time.Time{}, err
		}
		if st.empty {
			c.log.Info("the certificate Secret is empty; writing a new CA and certificate, valid for "+c.lifetime.String(), "secret", c.ref())
		} else {
			c.log.Warn("the certificate Secret holds no usable certificate ("+st.currentWhy+"); replacing it with a new one, valid for "+c.lifetime.String(), "secret", c.ref())
		}
		return time.Time{}, c.write(ctx, st.sec, map[string][]byte{
			keyServerCert: made.certPEM, keyServerKey: made.keyPEM,
			keyCABundle: bundleWith(now, c.names, st.bundle, made.ca),
		}, "")
	}
	if st.nextWhy != "" {
		c.log.Warn(st.nextWhy+"; dropping it", "secret", c.ref())
		return time.Time{}, c.write(ctx, st.sec, c.currentData(st, st.sec.Data[keyCABundle]), "")
	}
	c.serve(&held{pair: st.current, ca: st.currentCA, certPEM: st.sec.Data[keyServerCert], keyPEM: st.sec.Data[keyServerKey]})
	had, err := c.setCABundle(ctx, st.sec.Data[keyCABundle], st.nextCA)
	if err != nil {
		return time.Time{}, err
	}
	if st.next != nil {
		if !st.publishedOK || !had {
			// Now is when the EventListeners' minute starts.
			data := maps.Clone(st.sec.Data)
			return time.Time{}, c.write(ctx, st.sec, data, now.UTC().Format(time.RFC3339Nano))
		}
		at := maxTime(st.published.Add(caPropagation), st.next.Leaf.NotBefore)
		if now.Before(at) {
			// Or, should the served one expire first, serve the next early.
			if expiry := st.current.Leaf.NotAfter; expiry.Before(at) {
				return expiry, nil
			}
			return at, nil
		}
		c.log.Info("the next certificate's CA has been in the caBundle for "+caPropagation.String()+"; serving it", "secret", c.ref())
		return time.Time{}, c.promote(ctx, st, now)
	}
	left := st.current.Leaf.NotAfter.Sub(now)
	if left <= c.lifetime+clockSkew {
		if at := st.current.Leaf.NotAfter.Add(-rotateBefore(c.lifetime)); now.Before(at) {
			return at, nil
		}
	}
	made, err := issue(c.names, nextStart(now, st.current.Leaf), c.lifetime)
	if err != nil {
		return time.Time{}, err
	}
	why := "the served certificate expires in " + left.Round(time.Second).String()
	if left > c.lifetime+clockSkew {
		why += ", later than the lifetime of " + c.lifetime.String() + " allows"
	}
	c.log.Info(why+"; adding the next one's CA to the caBundle, to serve it in "+caPropagation.String(), "secret", c.ref())
	data := c.currentData(st, bundleWith(now, c.names, st.bundle, made.ca, st.currentCA))
	data[keyNextCert], data[keyNextKey] = made.certPEM, made.keyPEM
	return time.Time{}, c.write(ctx, st.sec, data, "")
}

// nextStart is when the next certificate is valid from: when it can first
// be served, caPropagation from now, or, should the current one expire
// before that, when it does (it is then served early).
func nextStart(now time.Time, current *x509.Certificate) time.Time {
	start := now.Add(caPropagation)
	if current.NotAfter.Before(start) {
		start = current.NotAfter
	}
	return start.Add(-clockSkew)
}

// currentData is the Secret's data without the next certificate.
func (c *certSecret) currentData(st secretState, bundle []byte) map[string][]byte {
	return map[string][]byte{keyServerCert: st.sec.Data[keyServerCert], keyServerKey: st.sec.Data[keyServerKey], keyCABundle: bundle}
}

// promote makes the next certificate the served one; the CA of the one it
// replaces stays in the caBundle while it is valid.
func (c *certSecret) promote(ctx context.Context, st secretState, now time.Time) error {
	return c.write(ctx, st.sec, map[string][]byte{
		keyServerCert: st.sec.Data[keyNextCert], keyServerKey: st.sec.Data[keyNextKey],
		keyCABundle: bundleWith(now, c.names, st.bundle, st.nextCA, st.currentCA),
	}, "")
}

// write replaces the Secret's data and the published annotation (removed
// when ""), as of the resourceVersion read.
func (c *certSecret) write(ctx context.Context, sec *corev1.Secret, data map[string][]byte, published string) error {
	sec = sec.DeepCopy()
	sec.Data = data
	if published == "" {
		delete(sec.Annotations, publishedAnnotation)
	} else {
		if sec.Annotations == nil {
			sec.Annotations = map[string]string{}
		}
		sec.Annotations[publishedAnnotation] = published
	}
	if _, err := c.secrets.Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsConflict(err) {
			return err
		}
		return fmt.Errorf("writing Secret %s: %w", c.ref(), err)
	}
	return errAgain
}

// serve makes cert the one served, saying so when it changes.
func (c *certSecret) serve(h *held) {
	old := c.serving.Load()
	if leaf := h.pair.Leaf; old == nil || !old.pair.Leaf.Equal(leaf) {
		c.serving.Store(h)
		c.log.Info("serving the certificate valid until "+leaf.NotAfter.UTC().Format(time.RFC3339), "secret", c.ref(), "serial", leaf.SerialNumber.Text(16))
	}
	c.once.Do(func() { close(c.ready) })
}

// run steps at start, when the Secret changes and when the last step
// said, until ctx ends.
func (c *certSecret) run(ctx context.Context, changed <-chan struct{}) {
	for {
		next := c.step(ctx)
		t := c.clock.NewTimer(max(next.Sub(c.clock.Now()), 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-changed:
			t.Stop()
		case <-t.C():
		}
	}
}

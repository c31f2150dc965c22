// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/autox-tekton/autox/internal/badinput"
)

// Certificate lifetimes and the timing of a rotation. The EventListener
// trusts the CAs it has read from the ClusterInterceptors' caBundles, and
// reads them once a minute (Triggers' pkg/adapter, getHTTPClient), adding
// to its pool and never removing. So a rotation goes in two steps: a new
// CA and a serving certificate signed by it are made and the CA is added
// to the caBundle (the old one stays); only when the caBundle has carried
// it for caPropagation is the new certificate served.
const (
	// DefaultCertLifetime is -cert-lifetime's default.
	DefaultCertLifetime = 365 * 24 * time.Hour
	// MaxCertLifetime is one year: certificates are made to be rotated.
	MaxCertLifetime = 365 * 24 * time.Hour
	// MinCertLifetime leaves a certificate, once served, time for the
	// next CA to reach the EventListeners: caPropagation, the clock skew
	// it is backdated by, and 10 s to spare.
	MinCertLifetime = caPropagation + clockSkew + 10*time.Second
	// DefaultMaxBodyBytes is -max-body-bytes' default: an event is a few
	// KiB of JSON.
	DefaultMaxBodyBytes = 1 << 20
	// MaxMaxBodyBytes bounds -max-body-bytes: a JSON body costs about 8
	// times its size in memory while it is read and decoded, against the
	// Deployment's 256Mi limit.
	MaxMaxBodyBytes = 16 << 20

	// caPropagation is how long the ClusterInterceptor's caBundle must
	// have carried a new CA before a certificate it signed is served: the
	// EventListener's minute, and 10 s for its informer to see the change.
	caPropagation = 70 * time.Second
	// clockSkew is how long before it is first served a certificate is
	// valid from, for clocks that differ between nodes.
	clockSkew = 10 * time.Second
	// rotationMargin is how long a certificate stays valid after the next
	// one is due to be served: time for the other replica to follow and
	// for a failed step to be retried.
	rotationMargin = 30 * time.Second
)

// The certificate Secret's keys. The first three are knative's names, as
// Triggers' helpers wrote them before, so that an install keeps serving
// its certificate until it is rotated.
const (
	keyServerKey  = "server-key.pem"
	keyServerCert = "server-cert.pem"
	// keyCABundle is the caBundle: the CAs of the served certificate, of
	// the next one and of the previous one while it is valid.
	keyCABundle = "ca-cert.pem"
	// keyNextKey and keyNextCert are the next serving certificate, made
	// at the start of a rotation and served at its end.
	keyNextKey  = "next-server-key.pem"
	keyNextCert = "next-server-cert.pem"
	// publishedAnnotation is when the ClusterInterceptor's caBundle was
	// first seen carrying the next certificate's CA (RFC 3339).
	publishedAnnotation = "autox.dev/next-ca-published-at"
)

// rotateBefore is how long before a certificate expires its rotation
// starts: a fifth of its lifetime (73 days of a year), and never less than
// the rotation takes (caPropagation) plus rotationMargin.
func rotateBefore(lifetime time.Duration) time.Duration {
	return max(lifetime/5, caPropagation+rotationMargin)
}

// certProblems checks the certificate and body settings; zero means the
// default.
func (c Config) certProblems() []error {
	var errs []error
	switch {
	case c.CertLifetime < 0:
		errs = append(errs, badinput.Field("-cert-lifetime", fmt.Sprintf("%s is negative; give a duration such as 2160h (90 days), at most 8760h (one year)", c.CertLifetime)))
	case c.CertLifetime > MaxCertLifetime:
		errs = append(errs, badinput.Field("-cert-lifetime", fmt.Sprintf("%s is longer than one year; give at most 8760h (365 days), e.g. 2160h (90 days)", c.CertLifetime)))
	case c.CertLifetime > 0 && c.CertLifetime < MinCertLifetime:
		errs = append(errs, badinput.Field("-cert-lifetime", fmt.Sprintf("%s is shorter than %s: the EventListener reads the caBundle once a minute, and each certificate must outlive the time its CA takes to reach it; give at least %s", c.CertLifetime, MinCertLifetime, MinCertLifetime)))
	}
	if c.MaxBodyBytes < 0 || c.MaxBodyBytes > MaxMaxBodyBytes {
		errs = append(errs, badinput.Field("-max-body-bytes", fmt.Sprintf("%d is not between 1 and %d (16 MiB; a body costs about 8 times its size in memory); give e.g. 1048576 (1 MiB)", c.MaxBodyBytes, MaxMaxBodyBytes)))
	}
	return errs
}

// dnsNames are the names the serving certificate is for, as the
// EventListener reaches the Service.
func dnsNames(service, namespace string) []string {
	return []string{service + "." + namespace + ".svc", service + "." + namespace + ".svc.cluster.local"}
}

// issued is a serving certificate and the CA that signed it.
type issued struct {
	certPEM, keyPEM []byte
	ca              *x509.Certificate
}

// issue makes a CA and a serving certificate for names signed by it, both
// valid from notBefore for lifetime (ECDSA P-256). The CA may sign
// certificates for names alone (name constraints), and its key is dropped
// here: it signs nothing else, and the EventListener, which trusts every
// https ClusterInterceptor's CAs for all of them, trusts it for nothing
// but this Service.
func issue(names []string, notBefore time.Time, lifetime time.Duration) (issued, error) {
	notAfter := notBefore.Add(lifetime)
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return issued{}, fmt.Errorf("making a CA key: %w", err)
	}
	caSerial, err := serial()
	if err != nil {
		return issued{}, err
	}
	caTemplate := &x509.Certificate{
		SerialNumber:                caSerial,
		Subject:                     pkix.Name{CommonName: names[0] + " CA", Organization: []string{"autox"}},
		NotBefore:                   notBefore,
		NotAfter:                    notAfter,
		IsCA:                        true,
		BasicConstraintsValid:       true,
		MaxPathLenZero:              true,
		KeyUsage:                    x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         names,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return issued{}, fmt.Errorf("making a CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return issued{}, fmt.Errorf("reading the CA made: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return issued{}, fmt.Errorf("making a serving key: %w", err)
	}
	leafSerial, err := serial()
	if err != nil {
		return issued{}, err
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: leafSerial,
		Subject:      pkix.Name{CommonName: names[0], Organization: []string{"autox"}},
		DNSNames:     names,
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, &key.PublicKey, caKey)
	if err != nil {
		return issued{}, fmt.Errorf("making a serving certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return issued{}, fmt.Errorf("encoding the serving key: %w", err)
	}
	return issued{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		ca:      ca,
	}, nil
}

func serial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("making a serial number: %w", err)
	}
	return n, nil
}

// parseBundle reads a caBundle: PEM CA certificates and nothing else.
func parseBundle(b []byte) ([]*x509.Certificate, error) {
	var cas []*x509.Certificate
	rest := b
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s holds a PEM block of type %q, not CERTIFICATE", keyCABundle, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keyCABundle, err)
		}
		if !c.IsCA {
			return nil, fmt.Errorf("%s holds a certificate that is not a CA (%q)", keyCABundle, c.Subject.CommonName)
		}
		cas = append(cas, c)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("%s holds something that is not PEM", keyCABundle)
	}
	if len(cas) == 0 {
		return nil, fmt.Errorf("%s holds no certificate", keyCABundle)
	}
	return cas, nil
}

// encodeBundle writes cas as PEM, in order, each once.
func encodeBundle(cas []*x509.Certificate) []byte {
	var b bytes.Buffer
	var seen [][]byte
	for _, c := range cas {
		if c == nil || slices.ContainsFunc(seen, func(raw []byte) bool { return bytes.Equal(raw, c.Raw) }) {
			continue
		}
		seen = append(seen, c.Raw)
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// bundleWith is the caBundle to write: first (the CAs in use), then the
// CAs of old that are still valid and may sign for names alone (the
// previous certificate's, while a replica may still serve it). Expired
// CAs, and any other, are dropped.
func bundleWith(now time.Time, names []string, old []*x509.Certificate, first ...*x509.Certificate) []byte {
	cas := slices.Clone(first)
	for _, c := range old {
		if now.Before(c.NotAfter) && constrainedTo(c, names) {
			cas = append(cas, c)
		}
	}
	return encodeBundle(cas)
}

// constrainedTo reports whether ca may sign for names and nothing else.
func constrainedTo(ca *x509.Certificate, names []string) bool {
	if !ca.PermittedDNSDomainsCritical || len(ca.PermittedDNSDomains) == 0 {
		return false
	}
	for _, d := range ca.PermittedDNSDomains {
		if !slices.Contains(names, d) {
			return false
		}
	}
	return true
}

// contains reports whether the PEM bundle b holds ca.
func contains(b []byte, ca *x509.Certificate) bool {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return false
		}
		if block.Type == "CERTIFICATE" && bytes.Equal(block.Bytes, ca.Raw) {
			return true
		}
	}
}

// checkPair checks a certificate and its key as the EventListener will:
// they match, the certificate is for every one of names and chains to
// one of roots. It returns the pair and the CA it chains to. A
// certificate not yet valid is checked as of its start, and refused when
// it starts later than notAfterStart.
func checkPair(certPEM, keyPEM []byte, roots []*x509.Certificate, names []string, now, notAfterStart time.Time) (*tls.Certificate, *x509.Certificate, error) {
	if len(certPEM) == 0 || len(keyPEM) == 0 {
		return nil, nil, errors.New("the certificate or its key is missing")
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("the certificate and key do not make a pair: %w", err)
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, nil, fmt.Errorf("the certificate: %w", err)
		}
		pair.Leaf = leaf
	}
	if !now.Before(leaf.NotAfter) {
		return nil, nil, fmt.Errorf("the certificate expired at %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if leaf.NotBefore.After(notAfterStart) {
		return nil, nil, fmt.Errorf("the certificate is not valid until %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if len(roots) == 0 {
		return nil, nil, fmt.Errorf("%s holds no CA", keyCABundle)
	}
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	var root *x509.Certificate
	for _, name := range names {
		chains, err := leaf.Verify(x509.VerifyOptions{
			DNSName: name, Roots: pool, CurrentTime: maxTime(now, leaf.NotBefore),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if err != nil {
			return nil, nil, fmt.Errorf("the certificate does not verify for %s against %s: %w", name, keyCABundle, err)
		}
		root = chains[0][len(chains[0])-1]
	}
	return &pair, root, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

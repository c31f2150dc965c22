// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Documents (payloadURL, dataURL, protoURL) are fetched by the step, in
// the cluster, and what comes back is sent on as load: a URL of the
// cloud's metadata service would hand its credentials to whoever wrote
// the experiment. So a document is never fetched from a link-local
// address (169.254.0.0/16, fe80::/10, their multicast ranges) nor from
// the metadata addresses outside them (fd00:ec2::254 on AWS,
// 100.100.100.200 on Alibaba Cloud): a literal address is refused when
// the experiment is validated, a name when it resolves to one, at dial
// time, and a redirect to one likewise, as it dials again. The load
// targets themselves are the user's services and are not checked.

// metadataAddress reports whether a is an address documents are never
// fetched from.
func metadataAddress(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() {
		return true
	}
	return a.WithZone("") == netip.MustParseAddr("fd00:ec2::254") || a == netip.AddrFrom4([4]byte{100, 100, 100, 200})
}

// metadataError is a fetch refused for its address.
type metadataError struct {
	addr netip.Addr
}

func (e *metadataError) Error() string {
	return e.addr.String() + " is a link-local address (cloud metadata)"
}

// refuseMetadata is the net.Dialer Control of document fetches: it runs
// once the name is resolved, before the connection is made.
func refuseMetadata(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("cannot tell whether %s address %q is link-local, so it is not dialled", network, address)
	}
	if metadataAddress(ap.Addr()) {
		return &metadataError{addr: ap.Addr().Unmap()}
	}
	return nil
}

// literalMetadata is the metadata address that rawURL's host is, if it
// is one literally.
func literalMetadata(rawURL string) (netip.Addr, bool) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(u.Hostname())
	if err != nil || !metadataAddress(a) {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// checkDocumentURL reports a document URL that is not http(s), or whose
// host is literally a link-local address.
func checkDocumentURL(key, raw string, p *problems) {
	n := len(*p)
	checkURL(key, raw, p)
	if len(*p) > n {
		return
	}
	if _, ok := literalMetadata(raw); ok {
		p.add(key, metadataMessage(raw))
	}
}

func metadataMessage(rawURL string) string {
	return fmt.Sprintf("%q is a link-local address (cloud metadata); fetch documents from a service address", rawURL)
}

// documentTransport fetches documents: a request to a literal metadata
// address is refused before it is sent (also through a proxy), and its
// base transport dials through refuseMetadata.
type documentTransport struct {
	base http.RoundTripper
}

// newDocumentTransport guards base; resolver resolves names (nil: the
// system's).
func newDocumentTransport(base *http.Transport, resolver *net.Resolver) *documentTransport {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Resolver: resolver, Control: refuseMetadata}
	base.DialContext = d.DialContext
	// These would dial around DialContext.
	base.Dial, base.DialTLS, base.DialTLSContext = nil, nil, nil
	return &documentTransport{base: base}
}

func (t *documentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if a, err := netip.ParseAddr(req.URL.Hostname()); err == nil && metadataAddress(a) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &metadataError{addr: a.Unmap()}
	}
	return t.base.RoundTrip(req)
}

// CloseIdleConnections closes the base's, so that a fetch leaves no
// connection behind.
func (t *documentTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// documentClient is a copy of client (nil: a default one) whose
// transport is guarded; redirects are followed as client would, and the
// last one is noted in *redirectedTo.
func documentClient(client *http.Client, redirectedTo *string) *http.Client {
	var c http.Client
	if client != nil {
		c = *client
	}
	switch t := c.Transport.(type) {
	case *documentTransport:
	case nil:
		base, ok := http.DefaultTransport.(*http.Transport)
		if !ok {
			base = &http.Transport{Proxy: http.ProxyFromEnvironment}
		}
		c.Transport = newDocumentTransport(base.Clone(), nil)
	case *http.Transport:
		c.Transport = newDocumentTransport(t.Clone(), nil)
	default:
		// Not ours to dial: at least literal addresses are refused.
		c.Transport = &documentTransport{base: t}
	}
	check := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		*redirectedTo = req.URL.Redacted()
		if check != nil {
			return check(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

// refusedFetch is the message of a fetch of rawURL refused by its
// address, or "" when err is something else.
func refusedFetch(rawURL, redirectedTo string, err error) string {
	var me *metadataError
	if !errors.As(err, &me) {
		return ""
	}
	const fix = "fetch documents from a service address"
	target := rawURL
	if redirectedTo != "" {
		target = redirectedTo
	}
	u, perr := url.Parse(target)
	literal := perr == nil && isLiteral(u.Hostname())
	switch {
	case redirectedTo == "" && literal:
		return metadataMessage(rawURL)
	case redirectedTo == "":
		return fmt.Sprintf("%q: %s resolves to %s, a link-local address (cloud metadata); %s", rawURL, u.Hostname(), me.addr, fix)
	case literal:
		return fmt.Sprintf("%q redirects to %q, a link-local address (cloud metadata); %s", rawURL, redirectedTo, fix)
	}
	return fmt.Sprintf("%q redirects to %q, whose host %s resolves to %s, a link-local address (cloud metadata); %s", rawURL, redirectedTo, u.Hostname(), me.addr, fix)
}

func isLiteral(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

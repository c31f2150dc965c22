// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/dns/dnsmessage"
)

func TestMetadataAddress(t *testing.T) {
	for _, tc := range []struct {
		addr    string
		refused bool
	}{
		{"169.254.169.254", true},
		{"169.254.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fd00:ec2::254", true},
		{"100.100.100.200", true},
		{"224.0.0.251", true}, // link-local multicast
		{"ff02::1", true},
		{"127.0.0.1", false},
		{"10.96.0.10", false},
		{"100.100.100.201", false},
		{"fd00:ec2::253", false},
		{"::1", false},
	} {
		if got := metadataAddress(netip.MustParseAddr(tc.addr)); got != tc.refused {
			t.Errorf("metadataAddress(%s) = %v, want %v", tc.addr, got, tc.refused)
		}
	}
}

// TestLinkLocalURLsAreBadInput: a literal metadata address is refused
// when the experiment is validated (and so by autox generate).
func TestLinkLocalURLsAreBadInput(t *testing.T) {
	_, err := Parse([]byte(`tasks: [http, grpc]
http:
  url: http://169.254.169.254/ # a load target: the user's to choose
  payloadURL: http://169.254.169.254/latest/meta-data/
grpc:
  host: h:1
  call: a.B.C
  protoURL: "http://[fd00:ec2::254]/latest/api/token"
  endpoints:
    x: {dataURL: "http://100.100.100.200/latest/meta-data/"}
    y: {dataURL: "http://[fe80::1%25eth0]:8080/x.json"}
`), "x.yaml")
	want := []string{
		`x.yaml: http.payloadURL: "http://169.254.169.254/latest/meta-data/" is a link-local address (cloud metadata); fetch documents from a service address`,
		`x.yaml: grpc.protoURL: "http://[fd00:ec2::254]/latest/api/token" is a link-local address (cloud metadata); fetch documents from a service address`,
		`x.yaml: grpc.endpoints.x.dataURL: "http://100.100.100.200/latest/meta-data/" is a link-local address (cloud metadata); fetch documents from a service address`,
		`x.yaml: grpc.endpoints.y.dataURL: "http://[fe80::1%25eth0]:8080/x.json" is a link-local address (cloud metadata); fetch documents from a service address`,
	}
	if diff := cmp.Diff(want, strings.Split(errOf(err), "\n")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// fakeDNS is a resolver that answers every A question with addr and
// every other question with no answer, over an in-memory connection.
func fakeDNS(t *testing.T, addr netip.Addr) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			// Not a PacketConn: the resolver frames messages as over TCP.
			for {
				var n uint16
				if err := binary.Read(server, binary.BigEndian, &n); err != nil {
					return
				}
				q := make([]byte, n)
				if _, err := io.ReadFull(server, q); err != nil {
					return
				}
				var m dnsmessage.Message
				if err := m.Unpack(q); err != nil || len(m.Questions) != 1 {
					t.Errorf("fake DNS: bad question: %v", err)
					return
				}
				m.Header.Response, m.Header.Authoritative = true, true
				if m.Questions[0].Type == dnsmessage.TypeA {
					m.Answers = []dnsmessage.Resource{{
						Header: dnsmessage.ResourceHeader{Name: m.Questions[0].Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
						Body:   &dnsmessage.AResource{A: addr.As4()},
					}}
				}
				b, err := m.Pack()
				if err != nil {
					t.Errorf("fake DNS: %v", err)
					return
				}
				if err := binary.Write(server, binary.BigEndian, uint16(len(b))); err != nil {
					return
				}
				if _, err := server.Write(b); err != nil {
					return
				}
			}
		}()
		return client, nil
	}}
}

// TestFetchRefusesMetadata: no document is fetched from a link-local
// address, whether written literally, reached by a name that resolves
// there, or by a redirect.
func TestFetchRefusesMetadata(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		switch r.URL.Path {
		case "/to-literal":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/to-name":
			http.Redirect(w, r, "http://metadata.test/computeMetadata/v1/", http.StatusFound)
		default:
			w.Write([]byte("payload"))
		}
	}))
	defer srv.Close()
	// Names resolve to the metadata address; the test server is dialled
	// by its literal address.
	resolving := &http.Client{Transport: newDocumentTransport(srv.Client().Transport.(*http.Transport).Clone(), fakeDNS(t, netip.MustParseAddr("169.254.169.254")))}
	const fix = "fetch documents from a service address"
	for _, tc := range []struct {
		name       string
		client     *http.Client
		url        string
		wantServed int64
		want       string
	}{
		{"a literal address", nil, "http://169.254.169.254/latest/meta-data/", 0,
			`"http://169.254.169.254/latest/meta-data/" is a link-local address (cloud metadata); ` + fix},
		{"a literal IPv6 address", srv.Client(), "http://[fe80::a9fe:a9fe]/latest/", 0,
			`"http://[fe80::a9fe:a9fe]/latest/" is a link-local address (cloud metadata); ` + fix},
		{"a name that resolves to one", resolving, "http://metadata.test/computeMetadata/v1/", 0,
			`"http://metadata.test/computeMetadata/v1/": metadata.test resolves to 169.254.169.254, a link-local address (cloud metadata); ` + fix},
		{"a redirect to a literal one", srv.Client(), srv.URL + "/to-literal", 1,
			`"` + srv.URL + `/to-literal" redirects to "http://169.254.169.254/latest/meta-data/", a link-local address (cloud metadata); ` + fix},
		{"a redirect to a name that resolves to one", resolving, srv.URL + "/to-name", 1,
			`"` + srv.URL + `/to-name" redirects to "http://metadata.test/computeMetadata/v1/", whose host metadata.test resolves to 169.254.169.254, a link-local address (cloud metadata); ` + fix},
		{"a service address", srv.Client(), srv.URL + "/payload", 1, ""},
		{"no client: a default one, guarded", nil, srv.URL + "/payload", 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			served.Store(0)
			b, err := Fetch(context.Background(), tc.client, tc.url)
			if diff := cmp.Diff(tc.want, errOf(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if err == nil && string(b) != "payload" {
				t.Errorf("fetched %q, want payload", b)
			}
			if got := served.Load(); got != tc.wantServed {
				t.Errorf("the test server answered %d requests, want %d", got, tc.wantServed)
			}
		})
	}
}

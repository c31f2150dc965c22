// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command pki writes the test cluster's certificates, keys and kubeconfigs:
// a CA, the API server's serving certificate, client certificates for an
// admin (system:masters) and the kubelet (system:node:<node>), and the
// service-account signing key.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

func main() {
	dir := flag.String("dir", "", "folder to write into")
	hostIP := flag.String("host-ip", "127.0.0.1", "the host's address the API server advertises")
	node := flag.String("node", "autox-node", "node name")
	server := flag.String("server", "https://127.0.0.1:6443", "API server URL for kubeconfigs")
	flag.Parse()
	if err := run(*dir, *hostIP, *node, *server); err != nil {
		fmt.Fprintln(os.Stderr, "pki:", err)
		os.Exit(1)
	}
}

type pair struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	der  []byte
}

func run(dir, hostIP, node, server string) error {
	if dir == "" {
		return fmt.Errorf("-dir is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, err := issue(nil, &x509.Certificate{Subject: pkix.Name{CommonName: "autox-test-ca"}, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true})
	if err != nil {
		return err
	}
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")}
	if ip := net.ParseIP(hostIP); ip != nil {
		ips = append(ips, ip)
	}
	apiserver, err := issue(ca, &x509.Certificate{Subject: pkix.Name{CommonName: "kube-apiserver"},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPAddresses: ips, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature})
	if err != nil {
		return err
	}
	client := func(cn, org string) (*pair, error) {
		return issue(ca, &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{org}},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature})
	}
	admin, err := client("autox-admin", "system:masters")
	if err != nil {
		return err
	}
	kubelet, err := client("system:node:"+node, "system:nodes")
	if err != nil {
		return err
	}
	for name, p := range map[string]*pair{"ca": ca, "apiserver": apiserver, "admin": admin, "kubelet": kubelet} {
		if err := writePair(dir, name, p); err != nil {
			return err
		}
	}
	sa, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	if err := write(filepath.Join(dir, "sa.key"), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(sa)); err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err != nil {
		return err
	}
	if err := write(filepath.Join(dir, "sa.pub"), "PUBLIC KEY", pub); err != nil {
		return err
	}
	for name, p := range map[string]*pair{"admin": admin, "kubelet": kubelet} {
		if err := kubeconfig(filepath.Join(dir, name+".kubeconfig"), server, ca, p); err != nil {
			return err
		}
	}
	return nil
}

func issue(parent *pair, tmpl *x509.Certificate) (*pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(365 * 24 * time.Hour)
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &pair{cert: cert, key: key, der: der}, nil
}

func writePair(dir, name string, p *pair) error {
	if err := write(filepath.Join(dir, name+".crt"), "CERTIFICATE", p.der); err != nil {
		return err
	}
	k, err := x509.MarshalECPrivateKey(p.key)
	if err != nil {
		return err
	}
	return write(filepath.Join(dir, name+".key"), "EC PRIVATE KEY", k)
}

func write(file, kind string, der []byte) error {
	return os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600)
}

func kubeconfig(file, server string, ca, user *pair) error {
	k, err := x509.MarshalECPrivateKey(user.key)
	if err != nil {
		return err
	}
	b64 := func(kind string, der []byte) string {
		return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}))
	}
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: autox
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: autox
  context: {cluster: autox, user: %s}
current-context: autox
`, server, b64("CERTIFICATE", ca.der), user.cert.Subject.CommonName, b64("CERTIFICATE", user.der), b64("EC PRIVATE KEY", k), user.cert.Subject.CommonName)
	return os.WriteFile(file, []byte(cfg), 0o600)
}

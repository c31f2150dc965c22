// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/badinput"
)

func TestConfigValidate(t *testing.T) {
	secret := Config{Addr: ":8443", MetricsAddr: ":9090", Identity: "i-0", CARefresh: time.Minute, Namespace: "autox", RunsNamespace: "autox", SecretName: "autox-interceptor-tls", ServiceName: "autox-interceptor"}
	mounted := Config{Addr: ":8443", MetricsAddr: ":9090", Identity: "i-0", Namespace: "autox", RunsNamespace: "autox", CARefresh: time.Minute, CertFile: "tls.crt", KeyFile: "tls.key", CAFile: "ca.crt"}
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"certificate in the Secret", secret, ""},
		{"mounted certificate, no Secret variables needed", mounted, ""},
		{"nothing set", Config{}, "-addr: is empty; give a listen address, e.g. \":8443\"\n" +
			"POD_NAME: is empty and so is the hostname; set POD_NAME (the downward API's metadata.name)\n" +
			"-runs-namespace: \"\" is not a namespace name; give the namespace the runs go to, e.g. autox\n" +
			"-metrics-addr: is empty; give a listen address, e.g. \":9090\"\n" +
			"SYSTEM_NAMESPACE: is not set; the certificate made in the Secret needs it (triggers/interceptor.yaml sets it), or mount a certificate with -tls-cert-file and -tls-key-file\n" +
			"INTERCEPTOR_TLS_SECRET_NAME: is not set; the certificate made in the Secret needs it (triggers/interceptor.yaml sets it), or mount a certificate with -tls-cert-file and -tls-key-file\n" +
			"INTERCEPTOR_TLS_SVC_NAME: is not set; the certificate made in the Secret needs it (triggers/interceptor.yaml sets it), or mount a certificate with -tls-cert-file and -tls-key-file\n" +
			"-ca-refresh: 0s is not positive; give a duration such as 1m"},
		{"mounted certificate without the install namespace", Config{Addr: ":8443", MetricsAddr: ":9090", Identity: "i-0", CARefresh: time.Minute, CertFile: "c", KeyFile: "k", RunsNamespace: "autox"},
			"SYSTEM_NAMESPACE: is not set; it is the install namespace, where the Triggers and records are (triggers/interceptor.yaml sets it)"},
		{"key without certificate, CA without certificate", Config{Addr: ":8443", MetricsAddr: ":9090", Identity: "i-0", CARefresh: time.Minute, KeyFile: "k", CAFile: "c", Namespace: "a", RunsNamespace: "autox", SecretName: "b", ServiceName: "c"},
			"-tls-cert-file and -tls-key-file: go together; give both (a mounted certificate) or neither (a certificate made and rotated in the Secret INTERCEPTOR_TLS_SECRET_NAME)\n" +
				"-tls-ca-file: needs -tls-cert-file and -tls-key-file; without them the CA comes from the certificate Secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			got := ""
			if err != nil {
				got = err.Error()
				if !badinput.Is(err) {
					t.Errorf("%v is not bad input (exit 2)", err)
				}
			}
			if diff := cmp.Diff(tc.wantErr, got); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
}

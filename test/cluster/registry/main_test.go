// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// serve runs the registry of dir on a loopback port until the test ends.
func serve(t *testing.T, dir string) (host string, replayed int) {
	t.Helper()
	h, n, err := newHandler(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), n
}

// TestPushedImagesSurviveARestart: an image and an index pushed to one
// registry process are served, by tag and by digest, by the next one on
// the same folder.
func TestPushedImagesSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img})
	first, _ := serve(t, dir)
	imgRef, _ := name.NewTag(first+"/autox/x:v1", name.Insecure)
	idxRef, _ := name.NewTag(first+"/autox/x:index", name.Insecure)
	if err := remote.Write(imgRef, img); err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(idxRef, idx); err != nil {
		t.Fatal(err)
	}
	wantImg, _ := img.Digest()
	wantIdx, _ := idx.Digest()

	second, replayed := serve(t, dir)
	if replayed != 2 {
		t.Errorf("replayed %d manifests, want 2 (the image, then the index naming it)", replayed)
	}
	for _, c := range []struct {
		ref  string
		want v1.Hash
	}{
		{second + "/autox/x:v1", wantImg},
		{second + "/autox/x@" + wantImg.String(), wantImg},
		{second + "/autox/x:index", wantIdx},
	} {
		ref, err := name.ParseReference(c.ref, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Get(ref, remote.WithContext(context.Background()))
		if err != nil {
			t.Errorf("after a restart, %s: %v", c.ref, err)
			continue
		}
		if desc.Digest != c.want {
			t.Errorf("after a restart, %s is %s, want %s", c.ref, desc.Digest, c.want)
		}
	}
	pulled, err := remote.Image(mustRef(t, second+"/autox/x:v1"))
	if err != nil {
		t.Fatal(err)
	}
	// The layers come from the blobs on disk.
	layers, err := pulled.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("pulled %d layers (%v), want 2", len(layers), err)
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatalf("reading a layer after a restart: %v", err)
		}
		rc.Close()
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-addr", "127.0.0.1:1"}, "-dir is required: the folder that keeps the registry's blobs and manifests"},
		{[]string{"-addr", "0.0.0.0:10290", "-dir", t.TempDir()}, `-addr "0.0.0.0:10290": not a loopback address; write e.g. 127.0.0.1:10290`},
		{[]string{"-addr", "10290", "-dir", t.TempDir()}, `-addr "10290": address 10290: missing port in address; write host:port, e.g. 127.0.0.1:10290`},
		{[]string{"-addr", "127.0.0.1:1", "-dir", t.TempDir(), "-read-addr", "8.8.8.8:10290"}, `-read-addr "8.8.8.8:10290": not a private host:port of this machine; write e.g. 10.88.0.1:10290 (the CNI bridge's address)`},
	} {
		err := run(context.Background(), c.args)
		if err == nil || err.Error() != c.want {
			t.Errorf("run(%q) = %v\nwant %s", c.args, err, c.want)
		}
	}
}

// TestReadAddressServesReadsOnly: what is pushed on the loopback address
// is pulled from the read address, which refuses pushes.
func TestReadAddressServesReadsOnly(t *testing.T) {
	h, _, err := newHandler(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	readAddr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go serveReads(ctx, readAddr, h)

	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	push := mustRef(t, strings.TrimPrefix(srv.URL, "http://")+"/autox/b:v1")
	if err := remote.Write(push, img); err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	pull := mustRef(t, readAddr+"/autox/b:v1")
	var got v1.Hash
	for i := 0; i < 50; i++ { // serveReads binds in the background
		var d *remote.Descriptor
		if d, err = remote.Get(pull); err == nil {
			got = d.Digest
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != want {
		t.Fatalf("pulled %s from the read address (err %v), want %s", got, err, want)
	}
	if err := remote.Write(mustRef(t, readAddr+"/autox/c:v1"), img); err == nil {
		t.Fatal("a push to the read address was accepted")
	}
	req, _ := http.NewRequest(http.MethodDelete, "http://"+readAddr+"/v2/autox/b/manifests/v1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE on the read address: %d, want %d", resp.StatusCode, http.StatusMethodNotAllowed)
	}
}

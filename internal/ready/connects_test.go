// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package ready

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestConnects: a Service with ready endpoints passes only once its
// cluster IP takes connections (here a real listener on loopback that
// opens late, as kube-proxy's rules arrive late).
func TestConnects(t *testing.T) {
	// A free port, closed again: nothing listens there until we say so.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	svc := func(ip string) string {
		return fmt.Sprintf(`spec: {clusterIP: %q, ports: [{port: %d, protocol: TCP}, {port: 53, protocol: UDP}]}`, ip, port)
	}

	t.Run("waits for the listener", func(t *testing.T) {
		accepted := make(chan struct{}, 16)
		opened := make(chan net.Listener, 1)
		time.AfterFunc(600*time.Millisecond, func() {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				t.Error(err)
				close(opened)
				return
			}
			opened <- l
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
				accepted <- struct{}{}
			}
		})
		defer func() {
			if l, ok := <-opened; ok {
				l.Close()
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		state := "has ready endpoints"
		if err := (&Checker{}).connects(ctx, obj(t, svc("127.0.0.1")), &state); err != nil {
			t.Fatalf("connects = %v", err)
		}
		if took := time.Since(start); took < 600*time.Millisecond {
			t.Errorf("connects returned after %v, before the listener opened at 600ms", took)
		}
		select {
		case <-accepted:
		case <-time.After(5 * time.Second):
			t.Error("the listener saw no connection")
		}
		if !strings.HasPrefix(state, "has ready endpoints, but its cluster IP does not take connections yet (dial tcp 127.0.0.1:") {
			t.Errorf("state while refused = %q", state)
		}
	})

	t.Run("times out naming the refusal", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		state := ""
		err := (&Checker{}).connects(ctx, obj(t, svc("127.0.0.1")), &state)
		want := fmt.Sprintf("has ready endpoints, but its cluster IP does not take connections yet (dial tcp 127.0.0.1:%d: connect: connection refused)", port)
		if diff := cmp.Diff([]any{true, want}, []any{errors.Is(err, context.DeadlineExceeded), state}); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	for _, ip := range []string{"None", ""} {
		t.Run("no cluster IP "+ip, func(t *testing.T) {
			dialed := false
			c := &Checker{Dial: func(context.Context, string, string) (net.Conn, error) {
				dialed = true
				return nil, errors.New("dialed")
			}}
			state := "has ready endpoints"
			if err := c.connects(context.Background(), obj(t, svc(ip)), &state); err != nil || dialed {
				t.Errorf("connects = %v, dialed %v; want nil without dialing", err, dialed)
			}
		})
	}
}

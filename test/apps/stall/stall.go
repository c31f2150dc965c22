// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package stall makes the sample apps stop answering for a while at
// regular intervals: a server that stalls For out of every Every, the
// server the fixed-rate tests and benchmarks measure (a closed-loop load
// generator stops sending while it stalls and hides the stall from its
// percentiles; a fixed-rate one must not).
package stall

import (
	"context"
	"net/http"
	"time"

	"google.golang.org/grpc"
)

// Stall is a schedule: from Start, the first For of every Every is a
// stall. The zero value never stalls.
type Stall struct {
	Every, For time.Duration
	Start      time.Time
}

// New starts a schedule now; every <= 0 or d <= 0 never stalls.
func New(every, d time.Duration) Stall {
	if every <= 0 || d <= 0 {
		return Stall{}
	}
	return Stall{Every: every, For: min(d, every), Start: time.Now()}
}

// Remaining is how long the stall in progress at t still lasts, 0 when
// none is.
func (s Stall) Remaining(t time.Time) time.Duration {
	if s.Every <= 0 || s.For <= 0 {
		return 0
	}
	into := t.Sub(s.Start) % s.Every
	if into < 0 || into >= s.For {
		return 0
	}
	return s.For - into
}

// Wait blocks until no stall is in progress, or ctx is done.
func (s Stall) Wait(ctx context.Context) error {
	wait := s.Remaining(time.Now())
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Handler answers with h once no stall is in progress.
func (s Stall) Handler(h http.Handler) http.Handler {
	if s.Every <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Wait(r.Context()) == nil {
			h.ServeHTTP(w, r)
		}
	})
}

// ServerOptions hold every call until no stall is in progress.
func (s Stall) ServerOptions() []grpc.ServerOption {
	if s.Every <= 0 {
		return nil
	}
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := s.Wait(ctx); err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if err := s.Wait(ss.Context()); err != nil {
				return err
			}
			return h(srv, ss)
		}),
	}
}

// Implied is the q-th quantile (0.99 for p99) of response times that the
// stalls alone imply for a load at a fixed rate measured from each
// request's intended send time, over a whole number of periods: a
// fraction f = For/Every of the intended times fall in a stall, and a
// request intended t into one waits For - t, so the slowest 1-q of all
// requests are the earliest (1-q)/f of each stall's, and the quantile is
// For x (1 - (1-q)/f). It is 0 when the stalls hold fewer than 1-q of the
// requests (then the quantile is a normal response's).
func (s Stall) Implied(q float64) time.Duration {
	if s.Every <= 0 || s.For <= 0 {
		return 0
	}
	f := float64(s.For) / float64(s.Every)
	if 1-q >= f {
		return 0
	}
	return time.Duration(float64(s.For) * (1 - (1-q)/f))
}

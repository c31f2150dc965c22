// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package app is a routeguide server (gRPC's example service) for autox's
// tests and demo. It is built from route_guide.proto at start with dynamic
// messages, serves reflection, counts the calls of each method, and obeys
// two metadata keys so tests can shape its behaviour:
//
//	x-delay-ms: N    wait N milliseconds before answering
//	x-fail-code: C   end the call with gRPC status code C (e.g. 13, Internal)
package app

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/bufbuild/protocompile"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/autox-tekton/autox/test/apps/conncount"
)

// Proto is route_guide.proto, the service's definition.
//
//go:embed route_guide.proto
var Proto string

// ProtoName is the file name the service's descriptors carry.
const ProtoName = "route_guide.proto"

// Service is the service's full name.
const Service = "routeguide.RouteGuide"

// feature is one named place of the sample database.
type feature struct {
	name     string
	lat, lng int32
}

// features are a few of routeguide's sample places; the seed's unary
// payload (407838351, -746143763) is the first.
var features = []feature{
	{"Patriots Path, Mendham, NJ 07945, USA", 407838351, -746143763},
	{"101 New Jersey 10, Whippany, NJ 07981, USA", 408122808, -743999179},
	{"U.S. 6, Shohola, PA 18458, USA", 413628156, -749015468},
	{"5 Conners Road, Kingston, NY 12401, USA", 419999544, -740371136},
	{"Mid Hudson Psychiatric Center, New Hampton, NY 10958, USA", 414008389, -743951297},
	{"287 Flugertown Road, Livingston Manor, NY 12758, USA", 419611318, -746524769},
	{"4001 Tremley Point Road, Linden, NJ 07036, USA", 406109563, -742186778},
	{"352 South Mountain Road, Wallkill, NY 12589, USA", 416802456, -742370183},
	{"Bailey Turn Road, Harriman, NY 10926, USA", 412950425, -741077389},
	{"193-199 Wawayanda Road, Hewitt, NJ 07421, USA", 412144655, -743949739},
}

// Server serves RouteGuide and reflection on a grpc.Server.
type Server struct {
	GRPC *grpc.Server

	point, rectangle, feat, note, summary protoreflect.MessageDescriptor

	// Conns counts the connections of the listener Start serves; nil
	// for a Server that Start did not make.
	Conns *conncount.Listener

	mu     sync.Mutex
	counts map[string]int64
}

// New compiles the proto and registers the service and reflection.
func New(opts ...grpc.ServerOption) (*Server, error) {
	compiler := protocompile.Compiler{Resolver: &protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(map[string]string{ProtoName: Proto}),
	}}
	files, err := compiler.Compile(context.Background(), ProtoName)
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", ProtoName, err)
	}
	fd := files[0]
	s := &Server{GRPC: grpc.NewServer(opts...), counts: map[string]int64{}}
	msg := func(name protoreflect.Name) protoreflect.MessageDescriptor { return fd.Messages().ByName(name) }
	s.point, s.rectangle, s.feat, s.note, s.summary = msg("Point"), msg("Rectangle"), msg("Feature"), msg("RouteNote"), msg("RouteSummary")

	s.GRPC.RegisterService(&grpc.ServiceDesc{
		ServiceName: Service,
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "GetFeature", Handler: s.getFeature}},
		Streams: []grpc.StreamDesc{
			{StreamName: "ListFeatures", Handler: s.listFeatures, ServerStreams: true},
			{StreamName: "RecordRoute", Handler: s.recordRoute, ClientStreams: true},
			{StreamName: "RouteChat", Handler: s.routeChat, ServerStreams: true, ClientStreams: true},
		},
		Metadata: ProtoName,
	}, s)

	registry := &protoregistry.Files{}
	if err := registry.RegisterFile(fd); err != nil {
		return nil, err
	}
	ropts := reflection.ServerOptions{Services: s.GRPC, DescriptorResolver: registry, ExtensionResolver: &protoregistry.Types{}}
	reflectionv1.RegisterServerReflectionServer(s.GRPC, reflection.NewServerV1(ropts))
	reflectionv1alpha.RegisterServerReflectionServer(s.GRPC, reflection.NewServer(ropts))
	return s, nil
}

// Count is how many calls method (e.g. "GetFeature") has received.
func (s *Server) Count(method string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[method]
}

// begin counts the call and applies the test metadata.
func (s *Server) begin(ctx context.Context, method string) error {
	s.mu.Lock()
	s.counts[method]++
	s.mu.Unlock()
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("x-delay-ms"); len(v) > 0 {
		ms, err := strconv.Atoi(v[0])
		if err != nil || ms < 0 || ms > 60_000 {
			return status.Errorf(codes.InvalidArgument, "x-delay-ms %q is not 0 to 60000", v[0])
		}
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
	if v := md.Get("x-fail-code"); len(v) > 0 {
		c, err := strconv.Atoi(v[0])
		if err != nil || c <= 0 || c > 16 {
			return status.Errorf(codes.InvalidArgument, "x-fail-code %q is not a gRPC code from 1 to 16", v[0])
		}
		return status.Errorf(codes.Code(c), "failing as asked by x-fail-code")
	}
	return nil
}

// getFeature decodes the call and runs it through the server's unary
// interceptors, as generated handlers do.
func (s *Server) getFeature(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
	in := dynamicpb.NewMessage(s.point)
	if err := dec(in); err != nil {
		return nil, err
	}
	if ic == nil {
		return s.feature1(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/" + Service + "/GetFeature"}
	return ic(ctx, in, info, func(ctx context.Context, req any) (any, error) { return s.feature1(ctx, req.(*dynamicpb.Message)) })
}

// feature1 answers GetFeature.
func (s *Server) feature1(ctx context.Context, in *dynamicpb.Message) (any, error) {
	if err := s.begin(ctx, "GetFeature"); err != nil {
		return nil, err
	}
	lat, lng := s.latLng(in)
	for _, f := range features {
		if f.lat == lat && f.lng == lng {
			return s.feature(f), nil
		}
	}
	return s.feature(feature{lat: lat, lng: lng}), nil
}

func (s *Server) listFeatures(_ any, stream grpc.ServerStream) error {
	in := dynamicpb.NewMessage(s.rectangle)
	if err := stream.RecvMsg(in); err != nil {
		return err
	}
	if err := s.begin(stream.Context(), "ListFeatures"); err != nil {
		return err
	}
	loLat, loLng := s.latLng(in.Get(s.rectangle.Fields().ByName("lo")).Message().Interface())
	hiLat, hiLng := s.latLng(in.Get(s.rectangle.Fields().ByName("hi")).Message().Interface())
	for _, f := range features {
		if f.lat >= min(loLat, hiLat) && f.lat <= max(loLat, hiLat) && f.lng >= min(loLng, hiLng) && f.lng <= max(loLng, hiLng) {
			if err := stream.SendMsg(s.feature(f)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Server) recordRoute(_ any, stream grpc.ServerStream) error {
	if err := s.begin(stream.Context(), "RecordRoute"); err != nil {
		return err
	}
	start := time.Now()
	var points int32
	for {
		in := dynamicpb.NewMessage(s.point)
		err := stream.RecvMsg(in)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		points++
	}
	out := dynamicpb.NewMessage(s.summary)
	out.Set(s.summary.Fields().ByName("point_count"), protoreflect.ValueOfInt32(points))
	out.Set(s.summary.Fields().ByName("elapsed_time"), protoreflect.ValueOfInt32(int32(time.Since(start).Seconds())))
	return stream.SendMsg(out)
}

func (s *Server) routeChat(_ any, stream grpc.ServerStream) error {
	if err := s.begin(stream.Context(), "RouteChat"); err != nil {
		return err
	}
	var notes []*dynamicpb.Message
	for {
		in := dynamicpb.NewMessage(s.note)
		err := stream.RecvMsg(in)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		loc := s.note.Fields().ByName("location")
		for _, n := range notes {
			if proto.Equal(n.Get(loc).Message().Interface(), in.Get(loc).Message().Interface()) {
				if err := stream.SendMsg(n); err != nil {
					return err
				}
			}
		}
		notes = append(notes, in)
	}
}

func (s *Server) latLng(m proto.Message) (int32, int32) {
	r := m.ProtoReflect()
	d := r.Descriptor()
	return int32(r.Get(d.Fields().ByName("latitude")).Int()), int32(r.Get(d.Fields().ByName("longitude")).Int())
}

func (s *Server) feature(f feature) *dynamicpb.Message {
	p := dynamicpb.NewMessage(s.point)
	p.Set(s.point.Fields().ByName("latitude"), protoreflect.ValueOfInt32(f.lat))
	p.Set(s.point.Fields().ByName("longitude"), protoreflect.ValueOfInt32(f.lng))
	out := dynamicpb.NewMessage(s.feat)
	out.Set(s.feat.Fields().ByName("name"), protoreflect.ValueOfString(f.name))
	out.Set(s.feat.Fields().ByName("location"), protoreflect.ValueOfMessage(p))
	return out
}

// Start serves a new Server on addr ("127.0.0.1:0" picks a free port)
// and returns it with the address it listens on; s.Conns counts its
// connections; opts are New's. Stop it with GRPC.Stop.
func Start(addr string, opts ...grpc.ServerOption) (*Server, string, error) {
	s, err := New(opts...)
	if err != nil {
		return nil, "", err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	s.Conns = conncount.Wrap(ln)
	go s.GRPC.Serve(s.Conns)
	return s, ln.Addr().String(), nil
}

// Package grpcload sends gRPC load through bojand/ghz's runner and turns
// each call's result into metrics.Endpoint values.
//
// Everything that can be bad input is settled before any load: the proto
// (parsed here, so its errors read like protoc's), the method (in the proto
// or on the server, by reflection), and the call data (decoded into the
// method's input message, so a wrong field is named). ghz then gets the
// method as a compiled descriptor set and does no lookups of its own.
package grpcload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/jhump/protoreflect/grpcreflect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/autox-tekton/autox/internal/experiment"
)

// Endpoint is a resolved endpoint ready to load.
type Endpoint struct {
	experiment.GRPCEndpoint
	// Protoset is the method's file and its imports, for ghz.
	Protoset []byte
	// Data is the request message(s) as JSON; empty sends empty messages.
	Data []byte
	// ServerStreaming methods count one call per stream.
	ServerStreaming bool
	// Unresolved says why the method could not be looked up (the host did
	// not answer reflection); the calls are still sent, and fail.
	Unresolved string
}

// reflectionTimeout bounds asking a server for its descriptors.
const reflectionTimeout = 10 * time.Second

// Prepare resolves every endpoint. Its errors are bad input, except that a
// host which does not answer is not: its endpoint is returned Unresolved so
// its calls count as errors.
func Prepare(ctx context.Context, client *http.Client, eps []experiment.GRPCEndpoint) ([]Endpoint, error) {
	var problems []experiment.FieldError
	add := func(key, msg string) { problems = append(problems, experiment.FieldError{Path: key, Message: msg}) }
	var out []Endpoint
	for _, ep := range eps {
		e := Endpoint{GRPCEndpoint: ep}
		if !ep.Insecure && ep.CACert != "" {
			if _, err := os.Stat(ep.CACert); err != nil {
				add(ep.Path+".cacert", fmt.Sprintf("cannot read %q: %v; give the CA certificate's PEM file", ep.CACert, unwrap(err)))
				continue
			}
		}
		data, err := loadData(ctx, client, ep)
		if err != nil {
			add(err.(experiment.FieldError).Path, err.(experiment.FieldError).Message)
			continue
		}
		mtd, unresolved, err := resolveMethod(ctx, client, ep)
		if err != nil {
			var fe experiment.FieldError
			if errors.As(err, &fe) {
				add(fe.Path, fe.Message)
				continue
			}
			return nil, err
		}
		e.Unresolved = unresolved
		if unresolved == "" {
			if err := checkData(mtd, data); err != nil {
				add(dataKey(ep), err.Error())
				continue
			}
			e.Data = data
		}
		e.ServerStreaming = mtd.IsStreamingServer()
		if e.Protoset, err = proto.Marshal(fileSet(mtd.ParentFile())); err != nil {
			return nil, fmt.Errorf("%s: encoding descriptors: %w", ep.Path, err)
		}
		out = append(out, e)
	}
	if len(problems) > 0 {
		return nil, &experiment.InputError{Problems: problems}
	}
	return out, nil
}

func dataKey(ep experiment.GRPCEndpoint) string {
	switch {
	case ep.DataFile != "":
		return ep.Path + ".dataFile"
	case ep.DataURL != "":
		return ep.Path + ".dataURL"
	}
	return ep.Path + ".data"
}

// loadData returns the request data as JSON, from data, dataFile or dataURL.
func loadData(ctx context.Context, client *http.Client, ep experiment.GRPCEndpoint) ([]byte, error) {
	switch {
	case ep.DataFile != "":
		b, err := os.ReadFile(ep.DataFile)
		if err != nil {
			return nil, experiment.FieldError{Path: ep.Path + ".dataFile", Message: fmt.Sprintf("cannot read %q: %v; give a path relative to the experiment file, or an absolute one", ep.DataFile, unwrap(err))}
		}
		return b, nil
	case ep.DataURL != "":
		b, err := experiment.Fetch(ctx, client, ep.DataURL)
		if err != nil {
			return nil, experiment.FieldError{Path: ep.Path + ".dataURL", Message: err.Error()}
		}
		return b, nil
	}
	return ep.DataJSON, nil
}

// checkData decodes the data into the method's input message: an object,
// or for client-streaming methods a list of them.
func checkData(mtd protoreflect.MethodDescriptor, data []byte) error {
	trimmed := strings.TrimSpace(string(data))
	if trimmed == "" {
		return nil
	}
	in := mtd.Input()
	var items []string
	if strings.HasPrefix(trimmed, "[") {
		var raw []json.RawMessage
		if err := json.Unmarshal([]byte(trimmed), &raw); err != nil {
			return fmt.Errorf("is not a JSON list of %s messages: %v", in.FullName(), err)
		}
		for _, r := range raw {
			items = append(items, string(r))
		}
	} else {
		items = []string{trimmed}
	}
	for i, item := range items {
		if err := protojson.Unmarshal([]byte(item), dynamicpb.NewMessage(in)); err != nil {
			where := ""
			if len(items) > 1 {
				where = fmt.Sprintf(" (item %d)", i)
			}
			return fmt.Errorf("does not match message %s%s: %s; use the field names of the proto", in.FullName(), where, protoMessage(err))
		}
	}
	return nil
}

// protoMessage is a protojson error without its "proto: " prefix (which
// the protobuf module writes with a space or a no-break space, at random
// per build) and without a position in the JSON, which is the position in
// what autox made of the data, not in the user's file.
func protoMessage(err error) string {
	s := strings.ReplaceAll(err.Error(), "\u00a0", " ")
	s = strings.TrimPrefix(s, "proto: ")
	if rest, ok := strings.CutPrefix(s, "syntax error (line "); ok {
		if _, msg, ok := strings.Cut(rest, "): "); ok {
			return "syntax error: " + msg
		}
	}
	if rest, ok := strings.CutPrefix(s, "(line "); ok {
		if _, msg, ok := strings.Cut(rest, "): "); ok {
			return msg
		}
	}
	return s
}

// fileSet is fd and every file it imports, imports first: what ghz takes
// as a protoset.
func fileSet(fd protoreflect.FileDescriptor) *descriptorpb.FileDescriptorSet {
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(f protoreflect.FileDescriptor)
	add = func(f protoreflect.FileDescriptor) {
		if seen[f.Path()] {
			return
		}
		seen[f.Path()] = true
		imports := f.Imports()
		for i := 0; i < imports.Len(); i++ {
			add(imports.Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(f))
	}
	add(fd)
	return set
}

// resolveMethod finds the call's method in the proto, or on the server by
// reflection. When the server does not answer, it returns a stand-in
// method and the reason, so the load still runs and its calls fail.
func resolveMethod(ctx context.Context, client *http.Client, ep experiment.GRPCEndpoint) (protoreflect.MethodDescriptor, string, error) {
	svcName, methodName := splitCall(ep.Call)
	var fd protoreflect.FileDescriptor
	switch {
	case ep.ProtoFile != "" || ep.ProtoURL != "":
		var err error
		if fd, err = parseProto(ctx, client, ep); err != nil {
			return nil, "", err
		}
	default:
		var unresolved string
		var err error
		fd, unresolved, err = reflectFile(ctx, ep, svcName)
		if unresolved != "" {
			mtd, serr := standIn(svcName, methodName)
			return mtd, unresolved, serr
		}
		if err != nil {
			return nil, "", err
		}
	}
	var services []string
	for i := 0; i < fd.Services().Len(); i++ {
		sd := fd.Services().Get(i)
		services = append(services, string(sd.FullName()))
		if string(sd.FullName()) != svcName {
			continue
		}
		if mtd := sd.Methods().ByName(protoreflect.Name(methodName)); mtd != nil {
			return mtd, "", nil
		}
		var methods []string
		for j := 0; j < sd.Methods().Len(); j++ {
			methods = append(methods, string(sd.Methods().Get(j).Name()))
		}
		return nil, "", experiment.FieldError{Path: ep.Path + ".call", Message: fmt.Sprintf("%q: service %s has no method %s; it has %s", ep.Call, svcName, methodName, strings.Join(methods, ", "))}
	}
	sort.Strings(services)
	return nil, "", experiment.FieldError{Path: ep.Path + ".call", Message: fmt.Sprintf("%q: no service %s in %s; it has %s", ep.Call, svcName, source(ep), strings.Join(services, ", "))}
}

func source(ep experiment.GRPCEndpoint) string {
	switch {
	case ep.ProtoFile != "":
		return fmt.Sprintf("%q", ep.ProtoFile)
	case ep.ProtoURL != "":
		return fmt.Sprintf("%q", ep.ProtoURL)
	}
	return "the server's reflection"
}

// parseProto compiles protoFile or protoURL; its errors read like protoc's
// (file:line:col: message).
func parseProto(ctx context.Context, client *http.Client, ep experiment.GRPCEndpoint) (protoreflect.FileDescriptor, error) {
	key := ep.Path + ".protoFile"
	src := &protocompile.SourceResolver{}
	name := ep.ProtoFile
	if ep.ProtoURL != "" {
		key = ep.Path + ".protoURL"
		b, err := experiment.Fetch(ctx, client, ep.ProtoURL)
		if err != nil {
			return nil, experiment.FieldError{Path: key, Message: err.Error()}
		}
		// The fetched file by its name; its imports from importPaths.
		name = path.Base(ep.ProtoURL)
		fetched := protocompile.SourceAccessorFromMap(map[string]string{name: string(b)})
		src.ImportPaths = append([]string{"."}, ep.ImportPaths...)
		src.Accessor = func(p string) (io.ReadCloser, error) {
			if p == name {
				return fetched(p)
			}
			return os.Open(p)
		}
	} else {
		if _, err := os.Stat(name); err != nil {
			return nil, experiment.FieldError{Path: key, Message: fmt.Sprintf("cannot read %q: %v; give a path relative to the experiment file, or an absolute one", name, unwrap(err))}
		}
		src.ImportPaths = append([]string{filepath.Dir(name)}, ep.ImportPaths...)
		name = filepath.Base(name)
	}
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(src)}
	files, err := c.Compile(ctx, name)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, experiment.FieldError{Path: key, Message: fmt.Sprintf("the proto does not compile: %v; fix it, or check it with protoc", err)}
	}
	return files[0], nil
}

// reflectFile asks the server for the file that defines the service.
func reflectFile(ctx context.Context, ep experiment.GRPCEndpoint, svcName string) (protoreflect.FileDescriptor, string, error) {
	creds := insecure.NewCredentials()
	if !ep.Insecure {
		var err error
		if creds, err = tlsCredentials(ep.CACert); err != nil {
			return nil, "", experiment.FieldError{Path: ep.Path + ".cacert", Message: err.Error()}
		}
	}
	cc, err := grpc.NewClient(ep.Host, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, "", experiment.FieldError{Path: ep.Path + ".host", Message: fmt.Sprintf("%q: %v", ep.Host, err)}
	}
	defer cc.Close()
	rctx, cancel := context.WithTimeout(ctx, reflectionTimeout)
	defer cancel()
	rc := grpcreflect.NewClientAuto(rctx, cc)
	defer rc.Reset()
	fd, err := rc.FileContainingSymbol(svcName)
	switch {
	case err == nil:
		return fd.UnwrapFile(), "", nil
	case grpcreflect.IsElementNotFoundError(err):
		services, _ := rc.ListServices()
		sort.Strings(services)
		return nil, "", experiment.FieldError{Path: ep.Path + ".call", Message: fmt.Sprintf("%q: the server at %s has no service %s; it has %s", ep.Call, ep.Host, svcName, strings.Join(services, ", "))}
	}
	switch status.Code(err) {
	case codes.Unimplemented:
		return nil, "", experiment.FieldError{Path: ep.Path + ".host", Message: fmt.Sprintf("the server at %s does not serve reflection; give protoFile or protoURL", ep.Host)}
	case codes.Unavailable, codes.DeadlineExceeded:
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		return nil, fmt.Sprintf("the server at %s did not answer reflection (%s), so calls were sent as empty messages", ep.Host, status.Convert(err).Message()), nil
	}
	return nil, "", experiment.FieldError{Path: ep.Path + ".host", Message: fmt.Sprintf("asking %s for its services by reflection: %v; give protoFile or protoURL", ep.Host, err)}
}

func tlsCredentials(caFile string) (credentials.TransportCredentials, error) {
	if caFile == "" {
		return credentials.NewTLS(nil), nil
	}
	c, err := credentials.NewClientTLSFromFile(caFile, "")
	if err != nil {
		return nil, fmt.Errorf("cannot use %q as a CA certificate: %v; give a PEM file", caFile, err)
	}
	return c, nil
}

// standIn is a unary method of the call's name taking and returning empty
// messages: enough for ghz to dial and fail when the server is unreachable.
func standIn(svcName, methodName string) (protoreflect.MethodDescriptor, error) {
	pkg, svc := "", svcName
	if i := strings.LastIndex(svcName, "."); i >= 0 {
		pkg, svc = svcName[:i], svcName[i+1:]
	}
	empty := "AutoxStandIn"
	fqn := "." + empty
	if pkg != "" {
		fqn = "." + pkg + "." + empty
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name:        proto.String("autox-stand-in.proto"),
		Package:     proto.String(pkg),
		Syntax:      proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String(empty)}},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name:   proto.String(svc),
			Method: []*descriptorpb.MethodDescriptorProto{{Name: proto.String(methodName), InputType: proto.String(fqn), OutputType: proto.String(fqn)}},
		}},
	}
	fd, err := protodesc.NewFile(fdp, nil)
	if err != nil {
		return nil, fmt.Errorf("stand-in descriptor for %s.%s: %w", svcName, methodName, err)
	}
	return fd.Services().Get(0).Methods().Get(0), nil
}

// splitCall splits package.Service.Method (or package.Service/Method).
func splitCall(call string) (service, method string) {
	call = strings.Replace(call, "/", ".", 1)
	i := strings.LastIndex(call, ".")
	return call[:i], call[i+1:]
}

func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

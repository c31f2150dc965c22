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
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/golang/protobuf/jsonpb" //nolint:staticcheck // the dynamic message API takes it
	"github.com/jhump/protoreflect/desc"
	"github.com/jhump/protoreflect/desc/protoparse"
	"github.com/jhump/protoreflect/dynamic"
	"github.com/jhump/protoreflect/grpcreflect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

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
		e.ServerStreaming = mtd.IsServerStreaming()
		fds := desc.ToFileDescriptorSet(mtd.GetFile())
		if e.Protoset, err = proto.Marshal(fds); err != nil {
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
func checkData(mtd *desc.MethodDescriptor, data []byte) error {
	trimmed := strings.TrimSpace(string(data))
	if trimmed == "" {
		return nil
	}
	in := mtd.GetInputType()
	var items []string
	if strings.HasPrefix(trimmed, "[") {
		var raw []json.RawMessage
		if err := json.Unmarshal([]byte(trimmed), &raw); err != nil {
			return fmt.Errorf("is not a JSON list of %s messages: %v", in.GetFullyQualifiedName(), err)
		}
		for _, r := range raw {
			items = append(items, string(r))
		}
	} else {
		items = []string{trimmed}
	}
	for i, item := range items {
		m := dynamic.NewMessage(in)
		if err := m.UnmarshalJSONPB(&jsonpb.Unmarshaler{}, []byte(item)); err != nil {
			where := ""
			if len(items) > 1 {
				where = fmt.Sprintf(" (item %d)", i)
			}
			return fmt.Errorf("does not match message %s%s: %v; use the field names of the proto", in.GetFullyQualifiedName(), where, err)
		}
	}
	return nil
}

// resolveMethod finds the call's method in the proto, or on the server by
// reflection. When the server does not answer, it returns a stand-in
// method and the reason, so the load still runs and its calls fail.
func resolveMethod(ctx context.Context, client *http.Client, ep experiment.GRPCEndpoint) (*desc.MethodDescriptor, string, error) {
	svcName, methodName := splitCall(ep.Call)
	var files []*desc.FileDescriptor
	switch {
	case ep.ProtoFile != "" || ep.ProtoURL != "":
		fd, err := parseProto(ctx, client, ep)
		if err != nil {
			return nil, "", err
		}
		files = []*desc.FileDescriptor{fd}
	default:
		fd, unresolved, err := reflectFile(ctx, ep, svcName)
		if err != nil || unresolved != "" {
			if unresolved != "" {
				mtd, serr := standIn(svcName, methodName)
				return mtd, unresolved, serr
			}
			return nil, "", err
		}
		files = []*desc.FileDescriptor{fd}
	}
	var services []string
	for _, fd := range files {
		for _, sd := range fd.GetServices() {
			services = append(services, sd.GetFullyQualifiedName())
			if sd.GetFullyQualifiedName() != svcName {
				continue
			}
			if mtd := sd.FindMethodByName(methodName); mtd != nil {
				return mtd, "", nil
			}
			var methods []string
			for _, m := range sd.GetMethods() {
				methods = append(methods, m.GetName())
			}
			return nil, "", experiment.FieldError{Path: ep.Path + ".call", Message: fmt.Sprintf("%q: service %s has no method %s; it has %s", ep.Call, svcName, methodName, strings.Join(methods, ", "))}
		}
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

// parseProto parses protoFile or protoURL; parse errors read like protoc's
// (file:line:col: message).
func parseProto(ctx context.Context, client *http.Client, ep experiment.GRPCEndpoint) (*desc.FileDescriptor, error) {
	key := ep.Path + ".protoFile"
	p := protoparse.Parser{ImportPaths: ep.ImportPaths}
	name := ep.ProtoFile
	if ep.ProtoURL != "" {
		key = ep.Path + ".protoURL"
		b, err := experiment.Fetch(ctx, client, ep.ProtoURL)
		if err != nil {
			return nil, experiment.FieldError{Path: key, Message: err.Error()}
		}
		name = path.Base(ep.ProtoURL)
		p.Accessor = protoparse.FileContentsFromMap(map[string]string{name: string(b)})
		if len(p.ImportPaths) == 0 {
			p.ImportPaths = []string{"."}
		}
	} else {
		if _, err := os.Stat(name); err != nil {
			return nil, experiment.FieldError{Path: key, Message: fmt.Sprintf("cannot read %q: %v; give a path relative to the experiment file, or an absolute one", name, unwrap(err))}
		}
		p.ImportPaths = append([]string{filepath.Dir(name)}, p.ImportPaths...)
		name = filepath.Base(name)
	}
	fds, err := p.ParseFiles(name)
	if err != nil {
		return nil, experiment.FieldError{Path: key, Message: fmt.Sprintf("the proto does not compile: %v; fix it, or check it with protoc", err)}
	}
	return fds[0], nil
}

// reflectFile asks the server for the file that defines the service.
func reflectFile(ctx context.Context, ep experiment.GRPCEndpoint, svcName string) (*desc.FileDescriptor, string, error) {
	creds := insecure.NewCredentials()
	if !ep.Insecure {
		var err error
		if creds, err = tlsCredentials(ep.CACert); err != nil {
			return nil, "", experiment.FieldError{Path: ep.Path + ".cacert", Message: err.Error()}
		}
	}
	cc, err := grpc.DialContext(ctx, ep.Host, grpc.WithTransportCredentials(creds))
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
		return fd, "", nil
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
func standIn(svcName, methodName string) (*desc.MethodDescriptor, error) {
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
	fd, err := desc.CreateFileDescriptor(fdp)
	if err != nil {
		return nil, fmt.Errorf("stand-in descriptor for %s.%s: %w", svcName, methodName, err)
	}
	return fd.GetServices()[0].GetMethods()[0], nil
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

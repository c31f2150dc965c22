// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package grpcload is the grpc step: Prepare resolves the endpoints,
// Work sends gRPC load through bojand/ghz's runner, behind the shared
// load loop (internal/load), and turns each call's result into
// metrics.Endpoint values, and Step ties them together and writes
// <dir>/grpc.metrics.json. It links ghz, and neither hey nor client-go
// (cmd/deps_test.go).
//
// Everything that can be bad input is settled before any load: the proto
// (parsed here, so its errors read like protoc's), the method (in the proto
// or on the server, by reflection), and the call data (decoded into the
// method's input message, so a wrong field is named). ghz then gets the
// method as a compiled descriptor set and does no lookups of its own.
package grpcload

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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

	"github.com/autox-tekton/autox/internal/badinput"
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
	// CACertPEM is the cacert file as Prepare read it (within its
	// Files); ghz, which reads it by path, gets a copy of these bytes.
	CACertPEM []byte
}

// reflectionTimeout bounds asking a server for its descriptors.
const reflectionTimeout = 10 * time.Second

// Prepare resolves every endpoint, reading any file (see
// experiment.Files). Its errors are bad input, except that a host which
// does not answer is not: its endpoint is returned Unresolved so its calls
// count as errors.
func Prepare(ctx context.Context, client *http.Client, eps []experiment.GRPCEndpoint) ([]Endpoint, error) {
	return PrepareWithin(ctx, client, nil, eps)
}

// PrepareWithin is Prepare reading files (dataFile, protoFile and its
// imports, cacert) only within files: one outside is bad input, found
// before anything is read or sent.
func PrepareWithin(ctx context.Context, client *http.Client, files *experiment.Files, eps []experiment.GRPCEndpoint) ([]Endpoint, error) {
	var problems []badinput.FieldError
	add := func(key, msg string) { problems = append(problems, badinput.FieldError{Path: key, Message: msg}) }
	addErr := func(err error) bool {
		var fe badinput.FieldError
		if errors.As(err, &fe) {
			add(fe.Path, fe.Message)
			return true
		}
		return false
	}
	// Every file first, so that a file outside the roots stops the step
	// before any document is fetched or any server asked.
	var ok []experiment.GRPCEndpoint
	for _, ep := range eps {
		if err := checkFiles(files, ep); err != nil {
			addErr(err)
			continue
		}
		ok = append(ok, ep)
	}
	if len(problems) > 0 {
		return nil, &badinput.Error{Problems: problems}
	}
	var out []Endpoint
	for _, ep := range ok {
		e := Endpoint{GRPCEndpoint: ep}
		if !ep.Insecure && ep.CACert != "" {
			pem, err := readCA(files, ep)
			if err != nil {
				addErr(err)
				continue
			}
			e.CACertPEM = pem
		}
		data, err := loadData(ctx, client, files, ep)
		if err != nil {
			addErr(err)
			continue
		}
		mtd, unresolved, err := resolveMethod(ctx, client, files, ep, e.CACertPEM)
		if err != nil {
			if addErr(err) {
				continue
			}
			return nil, err
		}
		e.Unresolved = unresolved
		if unresolved == "" {
			if err := checkData(mtd, data, ep.DataFile != "" || ep.DataURL != ""); err != nil {
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
		return nil, &badinput.Error{Problems: problems}
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

// checkFiles says whether every file the endpoint names may be read.
func checkFiles(files *experiment.Files, ep experiment.GRPCEndpoint) error {
	if ep.ProtoFile != "" {
		if err := files.Check(ep.Path+".protoFile", ep.ProtoFile); err != nil {
			return err
		}
	}
	if ep.ProtoFile != "" || ep.ProtoURL != "" {
		for i, dir := range ep.ImportPaths {
			if err := files.CheckDir(fmt.Sprintf("%s.importPaths[%d]", ep.Path, i), dir); err != nil {
				return err
			}
		}
	}
	if ep.DataFile != "" {
		if err := files.Check(ep.Path+".dataFile", ep.DataFile); err != nil {
			return err
		}
	}
	if !ep.Insecure && ep.CACert != "" {
		return files.Check(ep.Path+".cacert", ep.CACert)
	}
	return nil
}

// readCA reads the cacert file and checks that it holds a certificate.
func readCA(files *experiment.Files, ep experiment.GRPCEndpoint) ([]byte, error) {
	key := ep.Path + ".cacert"
	pem, err := files.ReadFile(key, ep.CACert)
	if err != nil {
		return nil, err
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return nil, badinput.FieldError{Path: key, Message: fmt.Sprintf("%q holds no PEM certificate; give the CA certificate's PEM file", ep.CACert)}
	}
	return pem, nil
}

// loadData returns the request data as JSON, from data, dataFile or dataURL.
func loadData(ctx context.Context, client *http.Client, files *experiment.Files, ep experiment.GRPCEndpoint) ([]byte, error) {
	switch {
	case ep.DataFile != "":
		return files.ReadFile(ep.Path+".dataFile", ep.DataFile)
	case ep.DataURL != "":
		b, err := experiment.Fetch(ctx, client, ep.DataURL)
		if err != nil {
			return nil, badinput.FieldError{Path: ep.Path + ".dataURL", Message: err.Error()}
		}
		return b, nil
	}
	return ep.DataJSON, nil
}

// checkData decodes the data into the method's input message: an object,
// or for client-streaming methods a list of them. fromDoc says the data
// is a file's or a URL's: then a problem is told by where it is (line
// and column) and never by what is written there, since the file may be
// anything, a token say, and the message goes to the step's log.
func checkData(mtd protoreflect.MethodDescriptor, data []byte, fromDoc bool) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil
	}
	lead := len(data) - len(bytes.TrimLeftFunc(data, unicode.IsSpace))
	in := mtd.Input()
	items := []dataItem{{text: trimmed, at: lead}}
	if trimmed[0] == '[' {
		var err error
		if items, err = splitList(trimmed, lead); err != nil {
			if fromDoc {
				var se *json.SyntaxError
				where := ""
				if errors.As(err, &se) {
					where = " at " + position(data, lead+int(se.Offset)-1)
				}
				return fmt.Errorf("is not a JSON list of %s messages: a syntax error%s; fix the JSON", in.FullName(), where)
			}
			return fmt.Errorf("is not a JSON list of %s messages: %v", in.FullName(), err)
		}
	}
	for i, item := range items {
		err := protojson.Unmarshal(item.text, dynamicpb.NewMessage(in))
		if err == nil {
			continue
		}
		which := ""
		if len(items) > 1 {
			which = fmt.Sprintf(" (item %d)", i)
		}
		if !fromDoc {
			return fmt.Errorf("does not match message %s%s: %s; use the field names of the proto", in.FullName(), which, protoMessage(err))
		}
		what, fix := contentFree(err)
		if line, col, ok := protoPosition(err); ok {
			what += " at " + position(data, item.at+offset(item.text, line, col))
		}
		return fmt.Errorf("does not match message %s%s: %s; %s", in.FullName(), which, what, fix)
	}
	return nil
}

// dataItem is one message of the data, and its offset in the data.
type dataItem struct {
	text []byte
	at   int
}

// splitList splits a JSON list into its items, each with its offset in
// the data (list starts at offset lead).
func splitList(list []byte, lead int) ([]dataItem, error) {
	if !json.Valid(list) {
		var v any
		return nil, json.Unmarshal(list, &v)
	}
	dec := json.NewDecoder(bytes.NewReader(list))
	if _, err := dec.Token(); err != nil { // [
		return nil, err
	}
	var items []dataItem
	for dec.More() {
		start := int(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		// InputOffset is where the last token ended: skip the separator.
		for start < len(list) && (list[start] == ',' || unicode.IsSpace(rune(list[start]))) {
			start++
		}
		items = append(items, dataItem{text: raw, at: lead + start})
	}
	if _, err := dec.Token(); err != nil { // ]
		return nil, err
	}
	return items, nil
}

// contentFree is what went wrong, in words that quote nothing of the
// data (protojson's messages quote the token they stopped at), and the
// fix.
func contentFree(err error) (what, fix string) {
	const names = "use the field names of the proto"
	msg := strings.ReplaceAll(err.Error(), "\u00a0", " ")
	if i := strings.Index(msg, "): "); i >= 0 && strings.Contains(msg[:i], "(line ") {
		msg = msg[i+3:]
	}
	switch {
	case strings.Contains(err.Error(), "syntax error"):
		return "a syntax error", "fix the JSON"
	case strings.HasPrefix(msg, "unknown field "):
		return "an unknown field", names
	case strings.HasPrefix(msg, "duplicate field "):
		return "a field given twice", "give each field once"
	case strings.HasPrefix(msg, "invalid value for "):
		// invalid value for <kind> field <name>: <the value>; kind and
		// name are the proto's.
		head, _, _ := strings.Cut(msg, ":")
		return head, "give each field a value of its type in the proto"
	}
	return "a field or value the message does not take", names
}

// protoPosition is the line and column a protojson error names.
func protoPosition(err error) (line, col int, ok bool) {
	s := err.Error()
	i := strings.Index(s, "(line ")
	if i < 0 {
		return 0, 0, false
	}
	if _, err := fmt.Sscanf(s[i:], "(line %d:%d)", &line, &col); err != nil {
		return 0, 0, false
	}
	return line, col, true
}

// offset is the byte offset of line:col (both from 1, col in runes, as
// protojson counts) in b.
func offset(b []byte, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(b[off:], '\n')
		if i < 0 {
			return len(b)
		}
		off += i + 1
	}
	for c := 1; c < col && off < len(b); c++ {
		_, size := utf8.DecodeRune(b[off:])
		off += size
	}
	return off
}

// position writes offset off of b as "line L, column C", counted as
// protojson counts.
func position(b []byte, off int) string {
	off = max(0, min(off, len(b)))
	before := b[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	if i := bytes.LastIndexByte(before, '\n'); i >= 0 {
		before = before[i+1:]
	}
	return fmt.Sprintf("line %d, column %d", line, utf8.RuneCount(before)+1)
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
func resolveMethod(ctx context.Context, client *http.Client, files *experiment.Files, ep experiment.GRPCEndpoint, caPEM []byte) (protoreflect.MethodDescriptor, string, error) {
	svcName, methodName := splitCall(ep.Call)
	var fd protoreflect.FileDescriptor
	switch {
	case ep.ProtoFile != "" || ep.ProtoURL != "":
		var err error
		if fd, err = parseProto(ctx, client, files, ep); err != nil {
			return nil, "", err
		}
	default:
		var unresolved string
		var err error
		fd, unresolved, err = reflectFile(ctx, ep, caPEM, svcName)
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
		return nil, "", badinput.FieldError{Path: ep.Path + ".call", Message: fmt.Sprintf("%q: service %s has no method %s; it has %s", ep.Call, svcName, methodName, strings.Join(methods, ", "))}
	}
	sort.Strings(services)
	return nil, "", badinput.FieldError{Path: ep.Path + ".call", Message: fmt.Sprintf("%q: no service %s in %s; it has %s", ep.Call, svcName, source(ep), strings.Join(services, ", "))}
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
// (file:line:col: message). Files, imports too, are read within files.
func parseProto(ctx context.Context, client *http.Client, files *experiment.Files, ep experiment.GRPCEndpoint) (protoreflect.FileDescriptor, error) {
	key := ep.Path + ".protoFile"
	src := &protocompile.SourceResolver{}
	name := ep.ProtoFile
	if ep.ProtoURL != "" {
		key = ep.Path + ".protoURL"
		b, err := experiment.Fetch(ctx, client, ep.ProtoURL)
		if err != nil {
			return nil, badinput.FieldError{Path: key, Message: err.Error()}
		}
		// The fetched file by its name; its imports from importPaths.
		name = path.Base(ep.ProtoURL)
		fetched := protocompile.SourceAccessorFromMap(map[string]string{name: string(b)})
		src.ImportPaths = append([]string{"."}, ep.ImportPaths...)
		src.Accessor = func(p string) (io.ReadCloser, error) {
			if p == name {
				return fetched(p)
			}
			return files.Open(p)
		}
	} else {
		// checkFiles has checked it.
		src.ImportPaths = append([]string{filepath.Dir(name)}, ep.ImportPaths...)
		src.Accessor = files.Open
		name = filepath.Base(name)
	}
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(src)}
	compiled, err := c.Compile(ctx, name)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, badinput.FieldError{Path: key, Message: fmt.Sprintf("the proto does not compile: %v; fix it, or check it with protoc", err)}
	}
	return compiled[0], nil
}

// reflectFile asks the server for the file that defines the service.
func reflectFile(ctx context.Context, ep experiment.GRPCEndpoint, caPEM []byte, svcName string) (protoreflect.FileDescriptor, string, error) {
	creds := insecure.NewCredentials()
	if !ep.Insecure {
		creds = tlsCredentials(caPEM)
	}
	cc, err := grpc.NewClient(ep.Host, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, "", badinput.FieldError{Path: ep.Path + ".host", Message: fmt.Sprintf("%q: %v", ep.Host, err)}
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
		return nil, "", badinput.FieldError{Path: ep.Path + ".call", Message: fmt.Sprintf("%q: the server at %s has no service %s; it has %s", ep.Call, ep.Host, svcName, strings.Join(services, ", "))}
	}
	switch status.Code(err) {
	case codes.Unimplemented:
		return nil, "", badinput.FieldError{Path: ep.Path + ".host", Message: fmt.Sprintf("the server at %s does not serve reflection; give protoFile or protoURL", ep.Host)}
	case codes.Unavailable, codes.DeadlineExceeded:
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		return nil, fmt.Sprintf("the server at %s did not answer reflection (%s), so calls were sent as empty messages", ep.Host, status.Convert(err).Message()), nil
	}
	return nil, "", badinput.FieldError{Path: ep.Path + ".host", Message: fmt.Sprintf("asking %s for its services by reflection: %v; give protoFile or protoURL", ep.Host, err)}
}

// tlsCredentials verify the server against caPEM (readCA checked it
// holds a certificate), or without it against the system's roots.
func tlsCredentials(caPEM []byte) credentials.TransportCredentials {
	if len(caPEM) == 0 {
		return credentials.NewTLS(nil)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return credentials.NewTLS(&tls.Config{RootCAs: pool})
}

// caCopy hands ghz, which reads its CA certificate by path, a copy of
// pem that is not a file: the reading end of a pipe, which ghz opens as
// /proc/self/fd/N (/dev/fd/N off Linux). done closes it; a copy never
// read is dropped.
func caCopy(pem []byte) (path string, done func(), err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", nil, err
	}
	go func() {
		// A pipe holds 64 KiB; a bundle may be larger, so this writes
		// while ghz reads. It fails (EPIPE) when done comes first.
		_, _ = w.Write(pem)
		w.Close()
	}()
	dir := "/dev/fd"
	if runtime.GOOS == "linux" {
		dir = "/proc/self/fd"
	}
	return fmt.Sprintf("%s/%d", dir, r.Fd()), func() { r.Close() }, nil
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

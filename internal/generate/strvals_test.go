// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package generate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// set applies each --set argument in turn onto into, as helm install
// does with several --set flags.
func set(into map[string]any, sets ...string) (map[string]any, error) {
	for _, s := range sets {
		as, err := parseSet(s)
		if err != nil {
			return into, err
		}
		for _, a := range as {
			if err := apply(into, a); err != nil {
				return into, err
			}
		}
	}
	return into, nil
}

type m = map[string]any
type l = []any

// The cases of Helm's own strvals tests (helm.sh/helm/v3 v3.17.4,
// pkg/strvals/parser_test.go: TestParseSet, TestParseInto,
// TestParseSetNestedLevels, TestSetIndex), with this parser's messages
// pinned; the ones named "stricter than Helm" are errors here where Helm
// quietly does something odd.
func TestSetSyntax(t *testing.T) {
	deep := strings.Repeat("n.", maxDepth+1) + "n=value"
	for _, tc := range []struct {
		name    string
		initial m
		sets    []string
		want    m
		wantErr string
	}{
		{name: "typed scalars", sets: []string{"name1=null,f=false,t=true"}, want: m{"name1": nil, "f": false, "t": true}},
		{name: "one", sets: []string{"name1=value1"}, want: m{"name1": "value1"}},
		{name: "two", sets: []string{"name1=value1,name2=value2"}, want: m{"name1": "value1", "name2": "value2"}},
		{name: "trailing comma", sets: []string{"name1=value1,name2=value2,"}, want: m{"name1": "value1", "name2": "value2"}},
		{name: "empty assignments", sets: []string{"name1=value1,,,,name2=value2,"}, wantErr: `empty key before ','; write key=value pairs separated by commas, e.g. a.b=1,a.c=2`},
		{name: "empty value", sets: []string{"name1=,name2=value2"}, want: m{"name1": "", "name2": "value2"}},
		{name: "leading zeros stay a string", sets: []string{"leading_zeros=00009"}, want: m{"leading_zeros": "00009"}},
		{name: "zero", sets: []string{"zero_int=0"}, want: m{"zero_int": int64(0)}},
		{name: "long int", sets: []string{"long_int=1234567890"}, want: m{"long_int": int64(1234567890)}},
		{name: "negative int", sets: []string{"n=-5"}, want: m{"n": int64(-5)}},
		{name: "int beyond 64 bits stays a string", sets: []string{"n=99999999999999999999"}, want: m{"n": "99999999999999999999"}},
		{name: "a decimal stays a string", sets: []string{"qps=0.5"}, want: m{"qps": "0.5"}},
		{name: "a duration stays a string", sets: []string{"timeout=60s"}, want: m{"timeout": "60s"}},
		{name: "boolean", sets: []string{"boolean=true"}, want: m{"boolean": true}},
		{name: "booleans in any case", sets: []string{"a=TRUE,b=False"}, want: m{"a": true, "b": false}},
		{name: "null", sets: []string{"is_null=null"}, want: m{"is_null": nil}},
		{name: "key without value before another", sets: []string{"name1,name2="}, wantErr: `key "name1" has no value; write name1=<value>`},
		{name: "key without value, then a value", sets: []string{"name1,name2=value2"}, wantErr: `key "name1" has no value; write name1=<value>`},
		{name: "key without value, then a backslash", sets: []string{"name1,name2=value2\\"}, wantErr: `key "name1" has no value; write name1=<value>`},
		{name: "keys without values", sets: []string{"name1,name2"}, wantErr: `key "name1" has no value; write name1=<value>`},
		{name: "escaped commas", sets: []string{"name1=one\\,two,name2=three\\,four"}, want: m{"name1": "one,two", "name2": "three,four"}},
		{name: "escaped equals", sets: []string{"name1=one\\=two,name2=three\\=four"}, want: m{"name1": "one=two", "name2": "three=four"}},
		{name: "spaces", sets: []string{"name1=one two three,name2=three two one"}, want: m{"name1": "one two three", "name2": "three two one"}},
		{name: "an equals sign in a value", sets: []string{"url=http://a/?x=1"}, want: m{"url": "http://a/?x=1"}},
		{name: "escaped dot in a key", sets: []string{`a\.b.c=1`}, want: m{"a.b": m{"c": int64(1)}}},
		{name: "slashes in a key", sets: []string{"upper.http-get/latency-mean=50"}, want: m{"upper": m{"http-get/latency-mean": int64(50)}}},
		{name: "lone backslash at the end", sets: []string{`a=b\`}, wantErr: `a: ends in a lone backslash; write \\ for a backslash, or remove it`},
		{name: "nested", sets: []string{"outer.inner=value"}, want: m{"outer": m{"inner": "value"}}},
		{name: "nested twice", sets: []string{"outer.middle.inner=value"}, want: m{"outer": m{"middle": m{"inner": "value"}}}},
		{name: "nested siblings", sets: []string{"outer.inner1=value,outer.inner2=value2"}, want: m{"outer": m{"inner1": "value", "inner2": "value2"}}},
		{name: "nested at two depths", sets: []string{"outer.inner1=value,outer.middle.inner=value"}, want: m{"outer": m{"inner1": "value", "middle": m{"inner": "value"}}}},
		{name: "nested key without value", sets: []string{"name1.name2"}, wantErr: `key "name1.name2" has no value; write name1.name2=<value>`},
		{name: "nested keys without values", sets: []string{"name1.name2,name1.name3"}, wantErr: `key "name1.name2" has no value; write name1.name2=<value>`},
		{name: "nested empty value", sets: []string{"name1.name2="}, want: m{"name1": m{"name2": ""}}},
		{name: "empty nested key", sets: []string{"name1.=name2"}, wantErr: `empty key before '=' (after "name1"); write key=value pairs separated by commas, e.g. a.b=1,a.c=2`},
		{name: "empty nested key before comma", sets: []string{"name1.,name2"}, wantErr: `empty key before ',' (after "name1"); write key=value pairs separated by commas, e.g. a.b=1,a.c=2`},
		{name: "list", sets: []string{"name1={value1,value2}"}, want: m{"name1": l{"value1", "value2"}}},
		{name: "two lists", sets: []string{"name1={value1,value2},name2={value1,value2}"}, want: m{"name1": l{"value1", "value2"}, "name2": l{"value1", "value2"}}},
		{name: "list of ints", sets: []string{"name1={1021,902}"}, want: m{"name1": l{int64(1021), int64(902)}}},
		{name: "nested list", sets: []string{"name1.name2={value1,value2}"}, want: m{"name1": m{"name2": l{"value1", "value2"}}}},
		{name: "the seed's tasks", sets: []string{"values.tasks={ready,http,assess}"}, want: m{"values": m{"tasks": l{"ready", "http", "assess"}}}},
		{name: "empty braces are one empty string, as in Helm", sets: []string{"a={}"}, want: m{"a": l{""}}},
		{name: "unclosed list", sets: []string{"name1={1021,902"}, wantErr: `name1: the list has no closing '}'; write {a,b,c}, and quote the --set in the shell`},
		{name: "text after a list, stricter than Helm", sets: []string{"]={}]."}, wantErr: `]: "]." follows the list's '}'; separate assignments with a comma, or write \{ for a literal brace`},
		{name: "index", sets: []string{"list[0]=foo"}, want: m{"list": l{"foo"}}},
		{name: "map in a list", sets: []string{"list[0].foo=bar"}, want: m{"list": l{m{"foo": "bar"}}}},
		{name: "two keys of a map in a list", sets: []string{"list[0].foo=bar,list[0].hello=world"}, want: m{"list": l{m{"foo": "bar", "hello": "world"}}}},
		{name: "negative index in a path", sets: []string{"list[0].foo=bar,list[-30].hello=world"}, wantErr: `list[-30]: "-30" is not a list index; write a whole number from 0 to 1000`},
		{name: "two indexes", sets: []string{"list[0]=foo,list[1]=bar"}, want: m{"list": l{"foo", "bar"}}},
		{name: "two indexes, trailing comma", sets: []string{"list[0]=foo,list[1]=bar,"}, want: m{"list": l{"foo", "bar"}}},
		{name: "gap in a list", sets: []string{"list[0]=foo,list[3]=bar"}, want: m{"list": l{"foo", nil, nil, "bar"}}},
		{name: "negative index", sets: []string{"list[0]=foo,list[-20]=bar"}, wantErr: `list[-20]: "-20" is not a list index; write a whole number from 0 to 1000`},
		{name: "index too large, stricter than Helm (65536)", sets: []string{fmt.Sprintf("list[%d]=x", maxIndex+1)}, wantErr: `list[1001]: "1001" is not a list index; write a whole number from 0 to 1000`},
		{name: "not an index", sets: []string{"list[a]=x"}, wantErr: `list[a]: "a" is not a list index; write a whole number from 0 to 1000`},
		{name: "the largest index", sets: []string{fmt.Sprintf("list[%d]=x", maxIndex)}, want: m{"list": append(make(l, maxIndex), "x")}},
		{name: "unclosed index", sets: []string{"list[0=x"}, wantErr: `list[0=x has no closing ']'; write list[0]=<value>`},
		{name: "text after an index", sets: []string{"illegal[0]name.foo=bar"}, wantErr: `'n' follows illegal[0]; after an index write =, . or [`},
		{name: "index without value, stricter than Helm", sets: []string{"noval[0]"}, wantErr: `key "noval[0]" has no value; write noval[0]=<value>`},
		{name: "index with empty value", sets: []string{"noval[0]="}, want: m{"noval": l{""}}},
		{name: "list in a list", sets: []string{"nested[0][0]=1"}, want: m{"nested": l{l{int64(1)}}}},
		{name: "list in a list with gaps", sets: []string{"nested[1][1]=1"}, want: m{"nested": l{nil, l{nil, int64(1)}}}},
		{name: "maps in a nested list", sets: []string{"name1.name2[0].foo=bar,name1.name2[1].foo=bar"}, want: m{"name1": m{"name2": l{m{"foo": "bar"}, m{"foo": "bar"}}}}},
		{name: "maps in a nested list, backwards", sets: []string{"name1.name2[1].foo=bar,name1.name2[0].foo=bar"}, want: m{"name1": m{"name2": l{m{"foo": "bar"}, m{"foo": "bar"}}}}},
		{name: "map in a nested list with a gap", sets: []string{"name1.name2[1].foo=bar"}, want: m{"name1": m{"name2": l{nil, m{"foo": "bar"}}}}},
		{name: "nesting within the limit", sets: []string{strings.Repeat("n.", maxDepth) + "n=value"}, want: func() m {
			want := m{"n": "value"}
			for range maxDepth {
				want = m{"n": want}
			}
			return want
		}()},
		{name: "nesting beyond the limit", sets: []string{deep}, wantErr: "the key has more than 30 levels; no autox value is that deep"},
		{
			name:    "into existing values",
			initial: m{"outer": m{"inner1": "overwrite", "inner2": "value2"}},
			sets:    []string{"outer.inner1=value1,outer.inner3=value3,outer.inner4=4"},
			want:    m{"outer": m{"inner1": "value1", "inner2": "value2", "inner3": "value3", "inner4": int64(4)}},
		},
		{
			name: "two --set into one map in a list of lists",
			sets: []string{"listOuter[0][0].type=listValue", "listOuter[0][0].status=alive"},
			want: m{"listOuter": l{l{m{"type": "listValue", "status": "alive"}}}},
		},
		{
			name: "two --set into two lists of a list",
			sets: []string{"listOuter[0][0].type=listValue", "listOuter[1][0].status=alive"},
			want: m{"listOuter": l{l{m{"type": "listValue"}}, l{m{"status": "alive"}}}},
		},
		{
			name:    "two --set into existing lists",
			initial: m{"listOuter": l{l{l{m{"exited": "old"}}}}},
			sets:    []string{"listOuter[0][1][0].type=listValue", "listOuter[0][0][1].status=alive"},
			want:    m{"listOuter": l{l{l{m{"exited": "old"}, m{"status": "alive"}}, l{m{"type": "listValue"}}}}},
		},
		{name: "later wins", sets: []string{"a=1", "a=2,a=3"}, want: m{"a": int64(3)}},
		{name: "a map replaces a value", sets: []string{"a=1", "a={x}"}, want: m{"a": l{"x"}}},
		{name: "a key under a value", sets: []string{"a=1,a.b=2"}, wantErr: "a is already 1, not a map; set either a or keys under it, not both"},
		{name: "an index under a map", sets: []string{"a.b=1,a[0]=2"}, wantErr: "a is already a map, not a list; set either a or keys under it, not both"},
		{name: "a key under a string in a list", sets: []string{"a[0]=x,a[0].b=2"}, wantErr: `a[0] is already "x", not a map; set either a[0] or keys under it, not both`},
		{name: "empty --set", sets: []string{""}, want: m{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			into := tc.initial
			if into == nil {
				into = m{}
			}
			got, err := set(into, tc.sets...)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if tc.wantErr != "" {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPathString(t *testing.T) {
	as, err := parseSet(`a\.b[2].c\=d\,e=1`)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`a\.b[2].c\=d\,e`, pathString(as[0].path)); diff != "" {
		t.Errorf("path (-want +got):\n%s", diff)
	}
}

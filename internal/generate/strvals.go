// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package generate

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// The --set syntax is Helm's (helm.sh/helm/v3/pkg/strvals), written here
// because every Helm release pulls in module versions newer than this
// module's. The grammar:
//
//	set     = [assign {"," assign}] [","]
//	assign  = path "=" value
//	path    = name {"." name | "[" index "]"}
//	value   = "{" [item {"," item}] "}" | text up to the next ","
//
// A backslash takes the next character literally, in names and values
// (a\.b is the key "a.b"; x=1\,2 is the string "1,2"). Values are typed as
// Helm types them: true, false (any case) are booleans, null removes the
// key, 0 and integers without a leading zero are integers, anything else
// (00009, 1.5, 60s) is a string.
//
// Where Helm silently does something odd, this parser refuses with a
// message: a path without a value (noval[0]), an empty name (a..b=1), text
// after a list's "}", a trailing lone backslash. Indexes stop at 1000.

const (
	// maxIndex is the largest list index: a[99999999]=x would otherwise
	// allocate that many elements, and the experiment parser a node for
	// each. Helm allows 65536, which nested 30 deep is 2 million nodes; no
	// autox list comes near 1000 items.
	maxIndex = 1000
	// maxDepth is the most dots in one key, as Helm's.
	maxDepth = 30
)

// segment is one step of a --set path: a map key or a list index.
type segment struct {
	key     string
	index   int
	isIndex bool
}

// assignment is one path=value of a --set.
type assignment struct {
	path  []segment
	value any
}

// pathString writes a path back in --set notation.
func pathString(path []segment) string {
	var b strings.Builder
	for i, s := range path {
		switch {
		case s.isIndex:
			fmt.Fprintf(&b, "[%d]", s.index)
		case i == 0:
			b.WriteString(escapeKey(s.key))
		default:
			b.WriteString("." + escapeKey(s.key))
		}
	}
	return b.String()
}

// shown is s as a message shows it: as it is, or quoted when it holds a
// character that is not printable (a newline would break the message's
// one line).
func shown(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

func escapeKey(k string) string {
	return strings.NewReplacer(`\`, `\\`, ".", `\.`, "=", `\=`, ",", `\,`, "[", `\[`).Replace(k)
}

// setParser reads one --set argument.
type setParser struct {
	in  []rune
	pos int
}

// parseSet splits one --set argument into its assignments, in order.
func parseSet(s string) ([]assignment, error) {
	p := &setParser{in: []rune(s)}
	var out []assignment
	for p.pos < len(p.in) {
		a, err := p.assignment()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// until reads up to (not including) one of stops, resolving escapes; it
// returns the delimiter found, or 0 at the end.
func (p *setParser) until(stops string) (string, rune, error) {
	var b strings.Builder
	for p.pos < len(p.in) {
		r := p.in[p.pos]
		p.pos++
		switch {
		case r == '\\':
			if p.pos == len(p.in) {
				return "", 0, fmt.Errorf("ends in a lone backslash; write \\\\ for a backslash, or remove it")
			}
			b.WriteRune(p.in[p.pos])
			p.pos++
		case strings.ContainsRune(stops, r):
			return b.String(), r, nil
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), 0, nil
}

func (p *setParser) assignment() (assignment, error) {
	var path []segment
	for depth := 0; ; depth++ {
		if depth > maxDepth {
			return assignment{}, fmt.Errorf("the key has more than %d levels; no autox value is that deep", maxDepth)
		}
		name, d, err := p.until("=[,.")
		if err != nil {
			return assignment{}, err
		}
		if name == "" {
			return assignment{}, fmt.Errorf("empty key before %s; write key=value pairs separated by commas, e.g. a.b=1,a.c=2", delimiter(d, pathString(path)))
		}
		path = append(path, segment{key: name})
		for d == '[' {
			i, err := p.index(path)
			if err != nil {
				return assignment{}, err
			}
			path = append(path, segment{index: i, isIndex: true})
			d = 0
			if p.pos < len(p.in) {
				d = p.in[p.pos]
				p.pos++
			}
			switch d {
			case '[', '.', '=':
			case 0, ',':
				return assignment{}, fmt.Errorf("key %q has no value; write %s=<value>", pathString(path), shown(pathString(path)))
			default:
				return assignment{}, fmt.Errorf("%q follows %s; after an index write =, . or [", d, shown(pathString(path)))
			}
		}
		switch d {
		case '.':
			continue
		case '=':
			v, err := p.value()
			if err != nil {
				return assignment{}, fmt.Errorf("%s: %w", shown(pathString(path)), err)
			}
			return assignment{path: path, value: v}, nil
		default:
			return assignment{}, fmt.Errorf("key %q has no value; write %s=<value>", pathString(path), shown(pathString(path)))
		}
	}
}

func delimiter(d rune, before string) string {
	where := ""
	if before != "" {
		where = fmt.Sprintf(" (after %q)", before)
	}
	if d == 0 {
		return "the end" + where
	}
	return fmt.Sprintf("%q%s", d, where)
}

// index reads a list index up to "]".
func (p *setParser) index(path []segment) (int, error) {
	s, d, err := p.until("]")
	if err != nil {
		return 0, err
	}
	if d == 0 {
		return 0, fmt.Errorf("%s has no closing ']'; write %s[0]=<value>", shown(pathString(path)+"["+s), shown(pathString(path)))
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i > maxIndex {
		return 0, fmt.Errorf("%s: %q is not a list index; write a whole number from 0 to %d", shown(pathString(path)+"["+s+"]"), s, maxIndex)
	}
	return i, nil
}

// value reads what follows "=": a {list} or text up to the next comma,
// and the comma.
func (p *setParser) value() (any, error) {
	if p.pos < len(p.in) && p.in[p.pos] == '{' {
		p.pos++
		list := []any{}
		for {
			item, d, err := p.until(",}")
			if err != nil {
				return nil, err
			}
			if d == 0 {
				return nil, fmt.Errorf("the list has no closing '}'; write {a,b,c}, and quote the --set in the shell")
			}
			list = append(list, typed(item))
			if d == '}' {
				break
			}
		}
		if p.pos < len(p.in) {
			if p.in[p.pos] != ',' {
				return nil, fmt.Errorf("%q follows the list's '}'; separate assignments with a comma, or write \\{ for a literal brace", string(p.in[p.pos:]))
			}
			p.pos++
		}
		return list, nil
	}
	s, _, err := p.until(",")
	if err != nil {
		return nil, err
	}
	return typed(s), nil
}

// typed is a value as Helm types it.
func typed(s string) any {
	switch {
	case strings.EqualFold(s, "true"):
		return true
	case strings.EqualFold(s, "false"):
		return false
	case strings.EqualFold(s, "null"):
		return nil
	case s == "0":
		return int64(0)
	case s != "" && s[0] != '0':
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
	}
	return s
}

// apply sets a.value at a.path in root, making the maps and lists on the
// way. A path through a value that is not a map (or list) is an error: a=1
// then a.b=2 has no meaning.
func apply(root map[string]any, a assignment) error {
	_, err := setAt(root, a.path, 0, a.value)
	return err
}

func setAt(cur any, path []segment, i int, v any) (any, error) {
	seg := path[i]
	conflict := func(want string) error {
		return fmt.Errorf("%s is already %s, not a %s; set either %s or keys under it, not both", shown(pathString(path[:i])), describeValue(cur), want, shown(pathString(path[:i])))
	}
	if seg.isIndex {
		var list []any
		switch c := cur.(type) {
		case nil:
		case []any:
			list = c
		default:
			return cur, conflict("list")
		}
		if len(list) <= seg.index {
			list = append(list, make([]any, seg.index+1-len(list))...)
		}
		if i == len(path)-1 {
			list[seg.index] = v
			return list, nil
		}
		child, err := setAt(list[seg.index], path, i+1, v)
		list[seg.index] = child
		return list, err
	}
	var m map[string]any
	switch c := cur.(type) {
	case nil:
		m = map[string]any{}
	case map[string]any:
		m = c
	default:
		return cur, conflict("map")
	}
	if i == len(path)-1 {
		m[seg.key] = v
		return m, nil
	}
	child, err := setAt(m[seg.key], path, i+1, v)
	m[seg.key] = child
	return m, err
}

func describeValue(v any) string {
	switch v := v.(type) {
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("%q", v)
	default:
		return fmt.Sprintf("%v", v)
	}
}

// Package toon encodes values as TOON (Token-Oriented Object Notation),
// spec 4.0 (toon-spec: 4.0), the compact indentation-based form of the JSON
// data model that `mm --format toon` prints for agents.
//
// Only encoding is implemented. A Go value is first normalized into the JSON
// data model (see Normalize for the mapping), then written with the rules of
// the spec: inline primitive arrays, tabular arrays of uniform objects
// (nested field groups included), keyed tables for objects whose values are
// uniform objects, and expanded lists otherwise. Output is deterministic, uses
// LF line ends, has no trailing spaces and no final newline.
package toon

import (
	"fmt"
	"strconv"
	"strings"
)

// Options are the encoder options of the spec.
type Options struct {
	// IndentSize is the number of spaces per depth level; 0 means 2.
	IndentSize int
	// Delimiter is ',', '\t' or '|'; 0 means ','.
	Delimiter byte
}

// Encode returns v in TOON with the given options.
func Encode(v any, opts Options) ([]byte, error) {
	if opts.IndentSize == 0 {
		opts.IndentSize = 2
	}
	if opts.IndentSize < 0 {
		return nil, fmt.Errorf("toon: indent size %d", opts.IndentSize)
	}
	if opts.Delimiter == 0 {
		opts.Delimiter = ','
	}
	switch opts.Delimiter {
	case ',', '\t', '|':
	default:
		return nil, fmt.Errorf("toon: delimiter %q not one of ',', tab, '|'", opts.Delimiter)
	}
	n, err := Normalize(v)
	if err != nil {
		return nil, err
	}
	e := &encoder{indent: opts.IndentSize, delim: opts.Delimiter}
	e.root(n)
	return []byte(strings.Join(e.lines, "\n")), nil
}

type encoder struct {
	indent int
	delim  byte
	lines  []string
}

func (e *encoder) pad(depth int) string { return strings.Repeat(" ", depth*e.indent) }

func (e *encoder) emit(depth int, s string) { e.lines = append(e.lines, e.pad(depth)+s) }

// marker is the delimiter mark inside a header bracket (nothing for comma).
func (e *encoder) marker() string {
	if e.delim == ',' {
		return ""
	}
	return string(e.delim)
}

func isPrimitive(v any) bool {
	switch v.(type) {
	case []any, *Object:
		return false
	}
	return true
}

func (e *encoder) root(v any) {
	switch x := v.(type) {
	case *Object:
		if x.Len() == 0 {
			return
		}
		if fs, ok := keyedFields(x); ok {
			e.emit(0, "["+strconv.Itoa(x.Len())+":"+e.marker()+"]{"+e.fieldList(fs)+"}:")
			e.keyedRows(x, fs, 1)
			return
		}
		e.fields(x, 0)
	case []any:
		e.array("", x, 0)
	default:
		e.emit(0, e.primitive(v))
	}
}

func (e *encoder) fields(o *Object, depth int) {
	for i, k := range o.Keys {
		e.field(encodeKey(k), o.Vals[i], depth)
	}
}

func (e *encoder) field(key string, v any, depth int) {
	switch x := v.(type) {
	case *Object:
		if x.Len() == 0 {
			e.emit(depth, key+":")
			return
		}
		if fs, ok := keyedFields(x); ok {
			e.emit(depth, key+"["+strconv.Itoa(x.Len())+":"+e.marker()+"]{"+e.fieldList(fs)+"}:")
			e.keyedRows(x, fs, depth+1)
			return
		}
		e.emit(depth, key+":")
		e.fields(x, depth+1)
	case []any:
		e.array(key, x, depth)
	default:
		e.emit(depth, key+": "+e.primitive(v))
	}
}

// array writes a keyed (or, with key "", root) array at depth.
func (e *encoder) array(key string, a []any, depth int) {
	if len(a) == 0 {
		if key == "" {
			e.emit(depth, "[]")
		} else {
			e.emit(depth, key+": []")
		}
		return
	}
	head := key + "[" + strconv.Itoa(len(a)) + e.marker() + "]"
	if s, ok := e.inline(a); ok {
		e.emit(depth, head+": "+s)
		return
	}
	if objs, ok := allObjects(a); ok {
		if fs, ok := tabularFields(objs); ok {
			e.emit(depth, head+"{"+e.fieldList(fs)+"}:")
			for _, o := range objs {
				e.emit(depth+1, e.row(o, fs))
			}
			return
		}
	}
	e.emit(depth, head+":")
	for _, x := range a {
		e.listItem(x, depth+1)
	}
}

// inline joins an all-primitive array, or reports false.
func (e *encoder) inline(a []any) (string, bool) {
	parts := make([]string, len(a))
	for i, x := range a {
		if !isPrimitive(x) {
			return "", false
		}
		parts[i] = e.primitive(x)
	}
	return strings.Join(parts, string(e.delim)), true
}

func (e *encoder) listItem(v any, depth int) {
	switch x := v.(type) {
	case []any:
		head := "- [" + strconv.Itoa(len(x)) + e.marker() + "]"
		if len(x) == 0 {
			e.emit(depth, head+":")
			return
		}
		if s, ok := e.inline(x); ok {
			e.emit(depth, head+": "+s)
			return
		}
		e.emit(depth, head+":")
		for _, y := range x {
			e.listItem(y, depth+1)
		}
	case *Object:
		if x.Len() == 0 {
			e.emit(depth, "-")
			return
		}
		start := len(e.lines)
		e.fields(x, depth+1)
		e.lines[start] = e.pad(depth) + "- " + strings.TrimPrefix(e.lines[start], e.pad(depth+1))
	default:
		e.emit(depth, "- "+e.primitive(v))
	}
}

// field is a column of a tabular header: a leaf, or a nested group.
type field struct {
	name string
	sub  []field
}

func (e *encoder) fieldList(fs []field) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = encodeKey(f.name)
		if f.sub != nil {
			parts[i] += "{" + e.fieldList(f.sub) + "}"
		}
	}
	return strings.Join(parts, string(e.delim))
}

func (e *encoder) cells(o *Object, fs []field, out []string) []string {
	for _, f := range fs {
		v, _ := o.Get(f.name)
		if f.sub != nil {
			out = e.cells(v.(*Object), f.sub, out)
			continue
		}
		out = append(out, e.primitive(v))
	}
	return out
}

func (e *encoder) row(o *Object, fs []field) string {
	return strings.Join(e.cells(o, fs, nil), string(e.delim))
}

func (e *encoder) keyedRows(o *Object, fs []field, depth int) {
	for i, k := range o.Keys {
		e.emit(depth, encodeKey(k)+": "+e.row(o.Vals[i].(*Object), fs))
	}
}

func allObjects(a []any) ([]*Object, bool) {
	objs := make([]*Object, len(a))
	for i, x := range a {
		o, ok := x.(*Object)
		if !ok {
			return nil, false
		}
		objs[i] = o
	}
	return objs, true
}

// keyedFields reports whether o must be written as a keyed table: at least
// two entries, every value a non-empty object, and the values tabular.
func keyedFields(o *Object) ([]field, bool) {
	if o.Len() < 2 {
		return nil, false
	}
	objs, ok := allObjects(o.Vals)
	if !ok {
		return nil, false
	}
	return tabularFields(objs)
}

// tabularFields computes the header field tree shared by objs, or fails.
func tabularFields(objs []*Object) ([]field, bool) {
	first := objs[0]
	if first.Len() == 0 {
		return nil, false
	}
	for _, o := range objs[1:] {
		if o.Len() != first.Len() {
			return nil, false
		}
		for _, k := range first.Keys {
			if _, ok := o.Get(k); !ok {
				return nil, false
			}
		}
	}
	fs := make([]field, 0, first.Len())
	for _, k := range first.Keys {
		col := make([]any, len(objs))
		for i, o := range objs {
			col[i], _ = o.Get(k)
		}
		prims := true
		for _, v := range col {
			if !isPrimitive(v) {
				prims = false
				break
			}
		}
		if prims {
			fs = append(fs, field{name: k})
			continue
		}
		sub, ok := allObjects(col)
		if !ok {
			return nil, false
		}
		subFields, ok := tabularFields(sub)
		if !ok {
			return nil, false
		}
		fs = append(fs, field{name: k, sub: subFields})
	}
	return fs, true
}

func (e *encoder) primitive(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		if x {
			return "true"
		}
		return "false"
	case Number:
		return string(x)
	case string:
		if needsQuotes(x, e.delim) {
			return quote(x)
		}
		return x
	}
	return "null"
}

// encodeKey writes a key bare when it matches ^[A-Za-z_][A-Za-z0-9_.]*$.
func encodeKey(k string) string {
	if k == "" {
		return `""`
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		alpha := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		if alpha || (i > 0 && ((c >= '0' && c <= '9') || c == '.')) {
			continue
		}
		return quote(k)
	}
	return k
}

func needsQuotes(s string, delim byte) bool {
	if s == "" || s == "true" || s == "false" || s == "null" {
		return true
	}
	if c := s[0]; c == ' ' || c == '\t' || c == '-' || c == '#' {
		return true
	}
	if c := s[len(s)-1]; c == ' ' || c == '\t' {
		return true
	}
	if looksNumeric(s) {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == ':', c == '"', c == '\\', c == '[', c == ']', c == '{', c == '}', c == delim:
			return true
		}
	}
	return false
}

// looksNumeric matches (?i)^[+-]?[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?$.
func looksNumeric(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > j
	}
	if !digits() {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

const hexDigits = "0123456789abcdef"

func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

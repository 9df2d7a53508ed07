package toon

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Object is an ordered JSON object: Keys[i] maps to Vals[i]. Order is kept
// on output, which is why the tree does not use map[string]any.
type Object struct {
	Keys []string
	Vals []any
}

// Len returns the number of entries.
func (o *Object) Len() int { return len(o.Keys) }

// Add appends an entry.
func (o *Object) Add(key string, val any) { o.Keys = append(o.Keys, key); o.Vals = append(o.Vals, val) }

// Get returns the value of key and whether it is present.
func (o *Object) Get(key string) (any, bool) {
	for i, k := range o.Keys {
		if k == key {
			return o.Vals[i], true
		}
	}
	return nil, false
}

// Number is a JSON number in canonical TOON text (no exponent inside the
// canonical range, no trailing zeros, -0 written as 0).
type Number string

// Normalize turns a Go value into the TOON/JSON data model: nil, bool,
// Number, string, []any or *Object. The mapping:
//
//   - nil pointers, interfaces, maps and slices become null; pointers are
//     followed;
//   - *big.Int becomes a number while |n| < 1e21 and a quoted decimal
//     string beyond that, so amounts in wei never lose digits;
//   - json.Marshaler and encoding.TextMarshaler win over the defaults; JSON
//     they produce is re-read in order;
//   - maps are written with sorted keys, as encoding/json does;
//   - structs follow declaration order and honour `json` tags (name, "-",
//     omitempty) and embedded structs;
//   - []byte becomes base64, as encoding/json does;
//   - floats: NaN and ±Inf become null; other numbers are canonical;
//   - invalid UTF-8 in strings becomes U+FFFD;
//   - channels, functions and complex numbers are an error.
func Normalize(v any) (any, error) {
	return normalize(reflect.ValueOf(v), 0)
}

const maxDepth = 1000

var (
	bigIntType        = reflect.TypeOf((*big.Int)(nil))
	jsonMarshalerType = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	textMarshalerType = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
	objectPtrType     = reflect.TypeOf((*Object)(nil))
	numberType        = reflect.TypeOf(Number(""))
	jsonNumberType    = reflect.TypeOf(json.Number(""))
	bigIntLimit       = new(big.Int).Exp(big.NewInt(10), big.NewInt(21), nil)
)

func normalize(rv reflect.Value, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("toon: value nested too deeply")
	}
	if !rv.IsValid() {
		return nil, nil
	}
	t := rv.Type()
	switch t {
	case objectPtrType:
		if rv.IsNil() {
			return nil, nil
		}
		o := rv.Interface().(*Object)
		out := &Object{Keys: append([]string(nil), o.Keys...), Vals: make([]any, len(o.Vals))}
		for i, x := range o.Vals {
			n, err := normalize(reflect.ValueOf(x), depth+1)
			if err != nil {
				return nil, err
			}
			out.Vals[i] = n
		}
		return out, nil
	case numberType:
		return Number(rv.String()), nil
	case jsonNumberType:
		return canonicalJSONNumber(rv.String()), nil
	case bigIntType:
		if rv.IsNil() {
			return nil, nil
		}
		return bigInt(rv.Interface().(*big.Int)), nil
	}
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil, nil
	}
	if rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return nil, nil
		}
		return normalize(rv.Elem(), depth+1)
	}
	if !t.Implements(jsonMarshalerType) && !t.Implements(textMarshalerType) && rv.CanAddr() {
		if pt := reflect.PointerTo(t); pt.Implements(jsonMarshalerType) || pt.Implements(textMarshalerType) {
			rv, t = rv.Addr(), pt
		}
	}
	if t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) {
		if (rv.Kind() == reflect.Map || rv.Kind() == reflect.Slice || rv.Kind() == reflect.Pointer) && rv.IsNil() {
			return nil, nil
		}
		if m, ok := rv.Interface().(json.Marshaler); ok {
			b, err := m.MarshalJSON()
			if err != nil {
				return nil, fmt.Errorf("toon: marshal %s: %w", t, err)
			}
			return FromJSON(b)
		}
		b, err := rv.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return nil, fmt.Errorf("toon: marshal %s: %w", t, err)
		}
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	}
	switch rv.Kind() {
	case reflect.Pointer:
		return normalize(rv.Elem(), depth+1)
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.String:
		return strings.ToValidUTF8(rv.String(), "\uFFFD"), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return Number(strconv.FormatInt(rv.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return Number(strconv.FormatUint(rv.Uint(), 10)), nil
	case reflect.Float32:
		return floatNumber(rv.Float(), 32), nil
	case reflect.Float64:
		return floatNumber(rv.Float(), 64), nil
	case reflect.Slice:
		if rv.IsNil() {
			return nil, nil
		}
		if t.Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(t.Elem()).Implements(textMarshalerType) {
			return base64.StdEncoding.EncodeToString(rv.Bytes()), nil
		}
		fallthrough
	case reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			n, err := normalize(rv.Index(i), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case reflect.Map:
		if rv.IsNil() {
			return nil, nil
		}
		type kv struct {
			k string
			v reflect.Value
		}
		entries := make([]kv, 0, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			k, err := mapKey(it.Key())
			if err != nil {
				return nil, err
			}
			entries = append(entries, kv{k, it.Value()})
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].k < entries[j].k })
		o := &Object{}
		for _, e := range entries {
			n, err := normalize(e.v, depth+1)
			if err != nil {
				return nil, err
			}
			o.Add(e.k, n)
		}
		return o, nil
	case reflect.Struct:
		o := &Object{}
		if err := structFields(o, rv, depth); err != nil {
			return nil, err
		}
		return o, nil
	}
	return nil, fmt.Errorf("toon: unsupported type %s", t)
}

func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		b, err := tm.MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("toon: unsupported map key type %s", k.Type())
}

func structFields(o *Object, rv reflect.Value, depth int) error {
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := rv.Field(i)
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if fv.Kind() == reflect.Pointer {
					if fv.IsNil() {
						continue
					}
					fv = fv.Elem()
				}
				if err := structFields(o, fv, depth+1); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.Contains(","+opts+",", ",omitempty,") && isEmpty(fv) {
			continue
		}
		if strings.Contains(","+opts+",", ",omitzero,") && fv.IsZero() {
			continue
		}
		n, err := normalize(fv, depth+1)
		if err != nil {
			return err
		}
		o.Add(name, n)
	}
	return nil
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

func bigInt(n *big.Int) any {
	if new(big.Int).Abs(n).Cmp(bigIntLimit) >= 0 {
		return n.String()
	}
	return Number(n.String())
}

// floatNumber formats f canonically; NaN and ±Inf become null.
func floatNumber(f float64, bits int) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	if f == 0 {
		return Number("0")
	}
	a := math.Abs(f)
	if a >= 1e-6 && a < 1e21 {
		return Number(strconv.FormatFloat(f, 'f', -1, bits))
	}
	s := strconv.FormatFloat(f, 'e', -1, bits)
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	digits := strings.TrimLeft(exp[1:], "0")
	if digits == "" {
		digits = "0"
	}
	return Number(mant + "e" + string(sign) + digits)
}

// canonicalJSONNumber canonicalizes JSON number text. Integer literals of up
// to 21 digits keep their digits exactly; others go through float64. A
// literal outside float64's range becomes a quoted string, never a wrong
// number.
func canonicalJSONNumber(s string) any {
	digits := strings.TrimPrefix(s, "-")
	if digits != "" && len(digits) <= 21 && strings.Trim(digits, "0123456789") == "" {
		trimmed := strings.TrimLeft(digits, "0")
		if trimmed == "" {
			return Number("0")
		}
		if strings.HasPrefix(s, "-") {
			return Number("-" + trimmed)
		}
		return Number(trimmed)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return floatNumber(f, 64)
}

// FromJSON parses JSON text into the ordered data model, keeping key order
// and exact number text.
func FromJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := readValue(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("toon: read json: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("toon: read json: trailing data")
	}
	return v, nil
}

func readValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch x := tok.(type) {
	case json.Delim:
		switch x {
		case '{':
			o := &Object{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is %T", kt)
				}
				v, err := readValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				o.Add(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			out := []any{}
			for dec.More() {
				v, err := readValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return out, nil
		}
		return nil, fmt.Errorf("unexpected %v", x)
	case json.Number:
		return canonicalJSONNumber(string(x)), nil
	case string:
		if !utf8.ValidString(x) {
			x = strings.ToValidUTF8(x, "\uFFFD")
		}
		return x, nil
	default:
		return x, nil // bool or nil
	}
}

// Package config is mm's settings file, config.json in the state folder, and
// the registry of the keys it may hold.
//
// Every key is registered with a validator that turns the text a user typed
// into the typed value stored in JSON, so a bad value is refused before
// anything is written. Command groups add their own keys from an init
// function:
//
//	func init() { config.Register(config.Key{Name: "rpc.", Prefix: true, …}) }
//
// Registration only appends to a slice; it must stay that cheap because mm's
// start-up time is a product feature.
package config

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/mm-wallet/mm/core/state"
	"github.com/mm-wallet/mm/sdk"
)

// FileName is the settings file inside the state folder.
const FileName = "config.json"

// Error codes of this package.
const (
	CodeInvalidKey   sdk.Code = "INVALID_CONFIG_KEY"
	CodeInvalidValue sdk.Code = "INVALID_CONFIG_VALUE"
)

// Key describes one setting.
type Key struct {
	// Name is the key ("walletTimeoutSeconds"), or with Prefix set the
	// start of a family of keys ("rpc." for "rpc.1", "rpc.137").
	Name   string
	Prefix bool
	// Usage is the one-line description shown by `mm config get` help.
	Usage string
	// Default is the value in force when the file does not set the key (nil:
	// unset).
	Default any
	// Parse validates a value typed by the user and returns what is stored.
	// For a Prefix key it receives the full key too, to validate the suffix.
	Parse func(key, value string) (any, error)
}

var (
	mu   sync.RWMutex
	keys []Key
)

// Register adds a key. It panics on a duplicate name, a programming error.
func Register(k Key) {
	mu.Lock()
	defer mu.Unlock()
	for _, x := range keys {
		if x.Name == k.Name {
			panic("config: key registered twice: " + k.Name)
		}
	}
	keys = append(keys, k)
}

// Keys returns the registered keys sorted by name.
func Keys() []Key {
	mu.RLock()
	defer mu.RUnlock()
	out := append([]Key(nil), keys...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup finds the key registered for name.
func Lookup(name string) (Key, bool) {
	mu.RLock()
	defer mu.RUnlock()
	for _, k := range keys {
		if k.Name == name && !k.Prefix {
			return k, true
		}
	}
	for _, k := range keys {
		if k.Prefix && strings.HasPrefix(name, k.Name) && len(name) > len(k.Name) {
			return k, true
		}
	}
	return Key{}, false
}

func unknownKey(name string) *sdk.Error {
	var names []string
	for _, k := range Keys() {
		n := k.Name
		if k.Prefix {
			n += "<…>"
		}
		names = append(names, n)
	}
	return sdk.NewError(CodeInvalidKey, fmt.Sprintf("unknown config key %q", name),
		"known keys: "+strings.Join(names, ", "))
}

// Values is the content of config.json: key → stored value.
type Values map[string]any

// Load reads config.json. A missing file is an empty Values; a damaged one is
// STATE_CORRUPT.
func Load(st *state.Store) (Values, error) {
	v := Values{}
	if _, err := st.ReadJSON(FileName, &v); err != nil {
		return nil, err
	}
	if v == nil {
		v = Values{}
	}
	return v, nil
}

// Effective returns the value in force for name (the file's, else the
// default) and whether it came from the file.
func (v Values) Effective(name string) (val any, fromFile bool, err error) {
	k, ok := Lookup(name)
	if !ok {
		return nil, false, unknownKey(name)
	}
	if x, ok := v[name]; ok {
		return x, true, nil
	}
	return k.Default, false, nil
}

// String returns the value of name as text ("" when unset).
func (v Values) String(name string) string {
	x, ok := v[name]
	if !ok {
		if k, found := Lookup(name); found && k.Default != nil {
			x = k.Default
		} else {
			return ""
		}
	}
	switch t := x.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	}
	return fmt.Sprint(x)
}

// Set validates value for name and writes it to config.json under the file
// lock. It returns the stored value.
func Set(ctx context.Context, st *state.Store, name, value string) (any, error) {
	k, ok := Lookup(name)
	if !ok {
		return nil, unknownKey(name)
	}
	parsed, err := k.Parse(name, value)
	if err != nil {
		if e := sdk.AsError(err); e != nil {
			return nil, e
		}
		return nil, sdk.NewError(CodeInvalidValue, fmt.Sprintf("invalid value for %s: %v", name, err), k.Usage)
	}
	v := Values{}
	err = st.UpdateJSON(ctx, FileName, &v, func() error {
		if v == nil {
			v = Values{}
		}
		v[name] = parsed
		return nil
	})
	return parsed, err
}

// Unset removes name from config.json so its default applies again.
func Unset(ctx context.Context, st *state.Store, name string) error {
	if _, ok := Lookup(name); !ok {
		return unknownKey(name)
	}
	v := Values{}
	return st.UpdateJSON(ctx, FileName, &v, func() error {
		delete(v, name)
		return nil
	})
}

// OneOf returns a Parse function accepting exactly the given words.
func OneOf(words ...string) func(string, string) (any, error) {
	return func(_, s string) (any, error) {
		for _, w := range words {
			if s == w {
				return w, nil
			}
		}
		return nil, fmt.Errorf("%q is not one of %s", s, strings.Join(words, ", "))
	}
}

// Bool parses true/false (also 1/0, yes/no, on/off).
func Bool(_, s string) (any, error) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return nil, fmt.Errorf("%q is not true or false", s)
}

// IntRange returns a Parse function accepting base-10 integers in [lo, hi].
func IntRange(lo, hi int64) func(string, string) (any, error) {
	return func(_, s string) (any, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < lo || n > hi {
			return nil, fmt.Errorf("%q is not a whole number from %d to %d", s, lo, hi)
		}
		return n, nil
	}
}

// The keys of the reference mm, plus per-chain RPC endpoints.
func init() {
	Register(Key{Name: "env", Usage: "service environment: production, staging or development", Default: "production",
		Parse: OneOf("production", "staging", "development")})
	Register(Key{Name: "verbose", Usage: "log what mm does to stderr (true/false)", Default: false, Parse: Bool})
	Register(Key{Name: "format", Usage: "default output format: text, json or toon (default: text on a terminal, json otherwise)",
		Parse: OneOf("text", "json", "toon")})
	Register(Key{Name: "walletTimeoutSeconds", Usage: "how long a signing job may wait, including approvals (1–600 seconds)", Default: int64(120),
		Parse: IntRange(1, 600)})
	Register(Key{Name: "rpc.", Prefix: true, Usage: "JSON-RPC endpoint for a chain, e.g. rpc.1 https://…", Parse: parseRPC})
}

var parseRPC = Endpoint("rpc.")

// Endpoint parses a per-chain endpoint setting "<prefix><chainId>": the
// chain id is a positive decimal without leading zeros, and the value an
// http(s) or ws(s) URL without credentials (they would be stored in
// config.json in the clear).
func Endpoint(prefix string) func(key, s string) (any, error) {
	return func(key, s string) (any, error) {
		id := strings.TrimPrefix(key, prefix)
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil || n == 0 || strings.HasPrefix(id, "0") {
			return nil, sdk.NewError(CodeInvalidKey, fmt.Sprintf("unknown config key %q: %q is not a chain id", clip(key, 60), clip(id, 40)),
				fmt.Sprintf("use %s<chainId>, e.g. %s1", prefix, prefix))
		}
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			// The value is not repeated: it may carry credentials.
			return nil, fmt.Errorf("the value is not a URL")
		}
		switch u.Scheme {
		case "http", "https", "ws", "wss":
		default:
			return nil, fmt.Errorf("scheme %q: use http, https, ws or wss", clip(u.Scheme, 20))
		}
		if u.User != nil {
			return nil, fmt.Errorf("credentials in the URL are not stored; use a provider URL with an API key path instead")
		}
		return s, nil
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

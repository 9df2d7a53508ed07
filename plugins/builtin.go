package plugins

import (
	"fmt"
	"sort"
	"sync"

	"github.com/mm-wallet/mm/sdk"
)

var (
	builtinMu sync.RWMutex
	builtins  = map[string]func() sdk.Signer{}
)

// RegisterBuiltin registers a built-in signer under name. cmd/mm calls it
// at start-up for each signer compiled in (byok, ledger, trezor…). It panics
// on an invalid or duplicate name or a nil factory: those are programming
// errors.
func RegisterBuiltin(name string, factory func() sdk.Signer) {
	if err := ValidateName(name); err != nil {
		panic("plugins: RegisterBuiltin: " + err.Error())
	}
	if factory == nil {
		panic("plugins: RegisterBuiltin: nil factory for " + name)
	}
	builtinMu.Lock()
	defer builtinMu.Unlock()
	if _, dup := builtins[name]; dup {
		panic("plugins: RegisterBuiltin: " + name + " registered twice")
	}
	builtins[name] = factory
}

// Builtins returns the names of the registered built-in signers, sorted.
func Builtins() []string {
	builtinMu.RLock()
	defer builtinMu.RUnlock()
	out := make([]string, 0, len(builtins))
	for n := range builtins {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func builtin(name string) func() sdk.Signer {
	builtinMu.RLock()
	defer builtinMu.RUnlock()
	return builtins[name]
}

// BuiltinArgs are the arguments, after the mm executable, with which the
// host re-executes mm to run the built-in signer name: cmd/mm must route
// them to ServeBuiltin(name).
func BuiltinArgs(name string) []string { return []string{"plugin", "serve", name} }

// ServeBuiltin serves the built-in signer name as a plugin; it is what the
// hidden `mm plugin serve <name>` command runs. It blocks until the host
// closes the plugin (or, when the host started it detached, until its
// deadline or StopDetached) and returns nil then. Run by hand, outside a
// host, it returns an error saying so.
func ServeBuiltin(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	f := builtin(name)
	if f == nil {
		return &sdk.Error{
			Code:    sdk.CodePluginNotFound,
			Message: fmt.Sprintf("plugins: no built-in signer %q", name),
			Hint:    fmt.Sprintf("built-in signers: %v", Builtins()),
		}
	}
	s := f()
	if s == nil {
		return sdk.NewError(sdk.CodeInternal, "plugins: built-in signer "+name+" has a nil factory result", "")
	}
	return sdk.ServeWithOptions(s, sdk.ServeOptions{})
}

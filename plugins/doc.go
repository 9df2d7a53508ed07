// Package plugins is mm's signer host: it finds signers, verifies them,
// launches them as separate processes and hands back an sdk.Signer.
//
// Signers come from two places:
//
//   - Built-in signers (byok, ledger, trezor…) are registered with
//     RegisterBuiltin and run as the mm binary itself, re-executed as
//     `mm plugin serve <name>` (cmd/mm's hidden command calls ServeBuiltin),
//     so key material never enters the CLI process and built-ins take
//     exactly the path a third-party plugin takes.
//   - Third-party signers are executables named mm-signer-<name>. Install
//     copies one into <MM_HOME>/plugins/ and pins its SHA-256 in
//     <MM_HOME>/plugins.lock; every launch verifies the pin before the
//     program runs (go-plugin SecureConfig) and refuses a changed file with
//     PLUGIN_CHECKSUM_MISMATCH. An executable found on MM_PLUGIN_PATH (or
//     dropped into <MM_HOME>/plugins/ by hand) that is not pinned is refused
//     with PLUGIN_NOT_PINNED and a hint to install it: nothing runs that the
//     user did not install.
//
// Plugin names are lower-case letters, digits, '-' and '_' (at most 64,
// starting with a letter or digit); anything else — a path separator, "..",
// a space — is INVALID_PLUGIN_NAME. An unknown name is PLUGIN_NOT_FOUND with
// a hint listing where the host looked. Built-in names take precedence and
// cannot be installed over.
//
// Every plugin runs with mutual TLS, in a temporary working folder, with an
// allow-listed environment (sdk.PluginEnv: no secrets such as MM_PASSWORD),
// in a process group of its own, and is killed if mm dies, also by SIGKILL
// (Linux parent-death signal, plus a stdin lifeline). Its stderr is relayed
// to Options.Stderr, each line prefixed with its name, when Options.Verbose
// is set, and discarded otherwise. A plugin that dies during a call yields
// PLUGIN_CRASHED.
//
// A CLI creates one Host per process, defers Host.Close, and cancels the
// contexts of its calls on SIGINT/SIGTERM (signal.NotifyContext), so that
// plugins are asked to exit cleanly; the kernel covers SIGKILL.
package plugins

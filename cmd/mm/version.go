package main

import (
	"runtime"
	"runtime/debug"

	"github.com/mm-wallet/mm/sdk"
)

// version is set at link time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

// versionResult is what mm --version prints.
type versionResult struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Go      string `json:"go"`
	// Protocol is the newest signer plugin protocol this mm speaks.
	Protocol int `json:"protocol"`
}

// Text implements render.Texter.
func (v versionResult) Text() string {
	s := "mm " + v.Version
	if v.Commit != "" {
		s += " (" + v.Commit + ")"
	}
	return s
}

func versionInfo() versionResult {
	v := versionResult{Version: version, Go: runtime.Version(), Protocol: sdk.ProtocolVersion}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v.Commit = s.Value[:12]
			}
		}
	}
	return v
}

// Command benchplugin serves benchsigner as an mm signer plugin for the
// plugin wire's benchmarks, which build it into a temporary folder.
package main

import (
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/internal/benchsigner"
)

func main() { sdk.Serve(benchsigner.New()) }

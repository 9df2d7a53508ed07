// Command mm-signer-keystore is the example keystore v3 signer as an mm
// plugin. Build it on its own and install it with
// "mm signer install ./mm-signer-keystore"; mm starts it, never a user.
package main

import (
	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/examples/keystore"
)

func main() { sdk.Serve(keystore.New()) }

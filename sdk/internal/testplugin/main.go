// Command testplugin serves the test signer as an mm signer plugin, for the
// plugin wire's tests and benchmarks, which build it into a temporary folder.
//
//	testplugin [-versions 1,2] [-fake-version N] [-automtls] [-prompter-claim-delay D]
//
// -versions restricts the protocol versions offered; -fake-version prints a
// go-plugin handshake for protocol N (which no SDK speaks) and waits, to
// test version negotiation failures; -automtls ignores the host's TLS pipe
// and uses go-plugin's standard AutoMTLS instead; -prompter-claim-delay
// sets sdk.ServeOptions.PrompterClaimDelay.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/mm-wallet/mm/sdk"
	"github.com/mm-wallet/mm/sdk/internal/testsigner"
)

func main() {
	versions := flag.String("versions", "", "comma-separated protocol versions to offer")
	fake := flag.Int("fake-version", 0, "answer the handshake with this protocol version and wait")
	fakeAddr := flag.String("fake-address", "", "answer the handshake with this network|address and wait")
	claimDelay := flag.Duration("prompter-claim-delay", 0, "sdk.ServeOptions.PrompterClaimDelay")
	autoMTLS := flag.Bool("automtls", false, "ignore the host's TLS pipe and negotiate go-plugin AutoMTLS, as a plugin in another language would")
	flag.Parse()
	if *autoMTLS {
		os.Unsetenv("MM_PLUGIN_TLS_FD")
	}
	if *fakeAddr != "" {
		fmt.Printf("1|2|%s|grpc|\n", *fakeAddr)
		_, _ = io.Copy(io.Discard, os.Stdin)
		return
	}
	if *fake != 0 {
		fmt.Printf("1|%d|unix|/nonexistent/mm-testplugin.sock|grpc|\n", *fake)
		_, _ = io.Copy(io.Discard, os.Stdin)
		return
	}
	var vs []int
	for _, f := range strings.Split(*versions, ",") {
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testplugin: bad -versions:", err)
			os.Exit(2)
		}
		vs = append(vs, v)
	}
	if err := sdk.ServeWithOptions(testsigner.New(), sdk.ServeOptions{Versions: vs, PrompterClaimDelay: *claimDelay}); err != nil {
		fmt.Fprintln(os.Stderr, "testplugin:", err)
		os.Exit(1)
	}
}

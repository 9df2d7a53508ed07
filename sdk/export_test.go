package sdk

import (
	"context"
	"os/exec"
)

// LaunchAutoMTLS launches like Launch but with go-plugin's standard
// AutoMTLS (P-521 keys generated on both sides at every start): the
// baseline the launch benchmark compares against.
func LaunchAutoMTLS(ctx context.Context, cmd *exec.Cmd, opts PluginOptions) (*PluginClient, error) {
	return launch(ctx, cmd, opts, launchConfig{autoMTLS: true})
}

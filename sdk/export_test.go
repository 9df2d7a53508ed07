package sdk

import (
	"context"
	"os/exec"
)

// PrompterConnections is how many connections the plugin made to c's
// Prompter.
func PrompterConnections(c *PluginClient) int { return int(c.prompterConns.Load()) }

// LaunchAutoMTLS launches like Launch but with go-plugin's standard
// AutoMTLS (P-521 keys generated on both sides at every start): the
// baseline the launch benchmark compares against.
func LaunchAutoMTLS(ctx context.Context, cmd *exec.Cmd, opts PluginOptions) (*PluginClient, error) {
	return launch(ctx, cmd, opts, launchConfig{autoMTLS: true})
}

// SweepDeadHosts is sweepDeadHosts.
var SweepDeadHosts = sweepDeadHosts

// HostSocketDir is hostSocketDir.
var HostSocketDir = hostSocketDir

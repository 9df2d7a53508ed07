//go:build hwdevice

package hwtest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/mm-wallet/mm/sdk"
)

// deviceURI reads the device URI of a real-device test from env.
func deviceURI(t *testing.T, env, examples string) string {
	t.Helper()
	uri := os.Getenv(env)
	if uri == "" {
		t.Fatalf("set %s to the device URI, e.g. %s", env, examples)
	}
	return uri
}

// runOperated runs rows on a real device, each with the time an operator
// needs to act.
func runOperated(t *testing.T, dev Device, rows []Scenario) {
	for i := range rows {
		rows[i].Timeout = 5 * time.Minute
	}
	Run(t, dev, rows)
}

// say tells the operator what to do, on stderr.
func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "\n>>> OPERATOR: "+format+"\n", args...)
}

// operatorPrompter relays the signer's prompts to the operator. It types
// passphrase when one is asked for (if set) and never a PIN or any other
// secret.
type operatorPrompter struct{ passphrase []byte }

var _ sdk.Prompter = operatorPrompter{}

func (operatorPrompter) Notify(_ context.Context, r *sdk.NotifyRequest) (*sdk.NotifyResponse, error) {
	say("[%s] %s", r.Level, r.Message)
	return &sdk.NotifyResponse{}, nil
}

func (o operatorPrompter) RequestSecret(_ context.Context, r *sdk.SecretRequest) (*sdk.SecretResponse, error) {
	if r.Kind == sdk.SecretPassphrase && o.passphrase != nil {
		return &sdk.SecretResponse{Secret: o.passphrase}, nil
	}
	return nil, sdk.NewError(sdk.CodeNonInteractive, "the device test never takes a PIN or other secret", "")
}

func (operatorPrompter) Confirm(context.Context, *sdk.ConfirmRequest) (*sdk.ConfirmResponse, error) {
	return &sdk.ConfirmResponse{Confirmed: true}, nil
}

func (operatorPrompter) WaitingForUser(_ context.Context, r *sdk.WaitingRequest) (*sdk.WaitingResponse, error) {
	if !r.Done {
		say("%s", r.Message)
	}
	return &sdk.WaitingResponse{}, nil
}

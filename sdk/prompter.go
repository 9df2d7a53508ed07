package sdk

import "context"

// Prompter is how a signer reaches the user. A plugin never touches the
// terminal: it calls back into the host (over the go-plugin broker when it
// runs as a plugin), and the host decides how to ask — a terminal prompt,
// an environment variable, a GUI, or a refusal when nobody is there.
//
// Get the host's Prompter from the context of any Signer call with
// PrompterFrom(ctx).
type Prompter interface {
	// Notify shows an informational line to the user (on stderr for the CLI).
	Notify(ctx context.Context, req *NotifyRequest) (*NotifyResponse, error)
	// RequestSecret asks for a PIN, passphrase or password. A user who
	// cancels yields USER_REJECTED; a host that cannot ask yields
	// NON_INTERACTIVE (see CodeNonInteractive).
	RequestSecret(ctx context.Context, req *SecretRequest) (*SecretResponse, error)
	// Confirm asks a yes/no question.
	Confirm(ctx context.Context, req *ConfirmRequest) (*ConfirmResponse, error)
	// WaitingForUser tells the host the signer now waits for the user to act
	// on a device ("confirm on your Ledger Nano X"). It returns at once; call
	// it again with Done set when the wait is over.
	WaitingForUser(ctx context.Context, req *WaitingRequest) (*WaitingResponse, error)
}

// CodeNonInteractive is returned by a Prompter that cannot ask the user.
const CodeNonInteractive Code = "NON_INTERACTIVE"

// Level of a notification.
type Level string

// Notification levels.
const (
	LevelInfo    Level = "info"
	LevelWarning Level = "warning"
)

// NotifyRequest is an informational message for the user.
type NotifyRequest struct {
	Level   Level
	Message string
}

// NotifyResponse acknowledges a notification.
type NotifyResponse struct{}

// SecretKind says what secret is asked for, so the host can pick a source
// (MM_PASSWORD for "password") and a prompt.
type SecretKind string

// Secret kinds.
const (
	SecretPassword    SecretKind = "password"     // unlock an encrypted key store
	SecretNewPassword SecretKind = "new-password" // choose a password (the host asks twice)
	SecretMnemonic    SecretKind = "mnemonic"     // import a BIP-39 mnemonic
	SecretPIN         SecretKind = "pin"          // device PIN
	SecretPassphrase  SecretKind = "passphrase"   // BIP-39 passphrase for a device
)

// SecretRequest asks the user for a secret.
type SecretRequest struct {
	Kind SecretKind
	// Prompt is the question, e.g. "Trezor PIN".
	Prompt string
	// Hint explains the input, e.g. the layout of a scrambled PIN matrix.
	Hint string
}

// SecretResponse carries the secret. The receiver should zero it after use.
type SecretResponse struct {
	Secret []byte
}

// ConfirmRequest is a yes/no question.
type ConfirmRequest struct {
	Prompt string
}

// ConfirmResponse is the user's answer.
type ConfirmResponse struct {
	Confirmed bool
}

// WaitingRequest says the signer waits for the user on a device.
type WaitingRequest struct {
	// Device names the device, e.g. "Ledger Nano S Plus".
	Device string
	// Message is what the user must do, e.g. "confirm on your Ledger Nano S Plus".
	Message string
	// Done is set when the wait is over (confirmed, rejected or cancelled).
	Done bool
}

// WaitingResponse acknowledges WaitingForUser.
type WaitingResponse struct{}

type prompterKey struct{}

// WithPrompter returns a context carrying p. Hosts use it to hand their
// Prompter to a Signer; the plugin machinery does it on the plugin side.
func WithPrompter(ctx context.Context, p Prompter) context.Context {
	return context.WithValue(ctx, prompterKey{}, p)
}

// PrompterFrom returns the Prompter carried by ctx, or one that refuses every
// question with NON_INTERACTIVE and drops notifications.
func PrompterFrom(ctx context.Context) Prompter {
	if p, ok := ctx.Value(prompterKey{}).(Prompter); ok && p != nil {
		return p
	}
	return noPrompter{}
}

type noPrompter struct{}

func (noPrompter) Notify(context.Context, *NotifyRequest) (*NotifyResponse, error) {
	return &NotifyResponse{}, nil
}

func (noPrompter) RequestSecret(_ context.Context, req *SecretRequest) (*SecretResponse, error) {
	return nil, NewError(CodeNonInteractive, "cannot ask for the "+string(req.Kind)+": no prompter", "run mm in a terminal, or provide the secret the way the command's help describes")
}

func (noPrompter) Confirm(context.Context, *ConfirmRequest) (*ConfirmResponse, error) {
	return nil, NewError(CodeNonInteractive, "cannot ask for confirmation: no prompter", "run mm in a terminal")
}

func (noPrompter) WaitingForUser(context.Context, *WaitingRequest) (*WaitingResponse, error) {
	return &WaitingResponse{}, nil
}

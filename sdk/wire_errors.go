package sdk

import (
	"context"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errorDomain is the google.rpc.ErrorInfo domain of mm error codes on the
// wire (see PROTOCOL.md, "Errors").
const errorDomain = "mm.signer"

// hintKey is the ErrorInfo metadata key that carries an error's hint.
const hintKey = "hint"

// grpcCode is the gRPC status code an error code travels under. mm reads the
// ErrorInfo, not this; it is there for generic gRPC tooling.
func grpcCode(c Code) codes.Code {
	switch c {
	case CodeCanceled:
		return codes.Canceled
	case CodeUnsupported:
		return codes.Unimplemented
	case CodeInvalidRequest:
		return codes.InvalidArgument
	case CodeInternal:
		return codes.Internal
	default:
		return codes.Unknown
	}
}

// toStatus encodes err, returned by a Signer or a Prompter, as a gRPC status
// error carrying the code, message and hint in a google.rpc.ErrorInfo. An
// error that is not an *Error travels as INTERNAL, a context error as
// CANCELED.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	e := AsError(err)
	if e == nil {
		switch {
		case errors.Is(err, context.Canceled):
			e = NewError(CodeCanceled, "canceled", "")
		case errors.Is(err, context.DeadlineExceeded):
			e = NewError(CodeCanceled, "timed out", "")
		default:
			e = NewError(CodeInternal, err.Error(), "")
		}
	}
	msg := e.Message
	if msg == "" {
		msg = string(e.Code)
	}
	st := status.New(grpcCode(e.Code), msg)
	info := &errdetails.ErrorInfo{Reason: string(e.Code), Domain: errorDomain}
	if e.Hint != "" {
		info.Metadata = map[string]string{hintKey: e.Hint}
	}
	if withInfo, derr := st.WithDetails(info); derr == nil {
		st = withInfo
	}
	return st.Err()
}

// fromStatus rebuilds the *Error carried by a gRPC status error, or returns
// nil when err carries none. Text from the other side is cleaned before it
// can reach a terminal.
func fromStatus(err error) *Error {
	st, ok := status.FromError(err)
	if !ok || st == nil {
		return nil
	}
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok || info.GetDomain() != errorDomain {
			continue
		}
		code := info.GetReason()
		if !validCode(code) {
			return NewError(CodePluginProtocolError, "the other side sent a malformed error code", "")
		}
		return &Error{
			Code:    Code(code),
			Message: cleanText(st.Message()),
			Hint:    cleanText(info.GetMetadata()[hintKey]),
		}
	}
	return nil
}

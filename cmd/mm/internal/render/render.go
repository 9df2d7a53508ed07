// Package render writes mm's results and errors in the three output formats:
// text for people, JSON for scripts, TOON for agents.
//
// Results go to stdout only. In JSON and TOON mode an error is a result too —
// {"error":{"code","message","hint"}} on stdout — so a program reading stdout
// always gets one document. In text mode errors go to stderr as
// "error: …" and "hint: …" lines.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mm-wallet/mm/cmd/mm/internal/toon"
	"github.com/mm-wallet/mm/sdk"
)

// Format is an output format.
type Format string

// Output formats.
const (
	Text Format = "text"
	JSON Format = "json"
	TOON Format = "toon"
)

// ParseFormat validates a --format value.
func ParseFormat(s string) (Format, bool) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case Text, JSON, TOON:
		return f, true
	}
	return "", false
}

// Texter is implemented by results that have a hand-made text form. Results
// without one are shown in text mode as TOON, which reads as "key: value"
// lines.
type Texter interface {
	Text() string
}

// Result writes v to w in format f, followed by a newline.
func Result(w io.Writer, f Format, v any) error {
	var out []byte
	switch f {
	case JSON:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("render: json: %w", err)
		}
		out = bytes.TrimRight(buf.Bytes(), "\n")
	case TOON:
		b, err := toon.Encode(v, toon.Options{})
		if err != nil {
			return fmt.Errorf("render: toon: %w", err)
		}
		out = b
	default:
		if t, ok := v.(Texter); ok {
			out = []byte(strings.TrimRight(t.Text(), "\n"))
			break
		}
		b, err := toon.Encode(v, toon.Options{})
		if err != nil {
			return fmt.Errorf("render: text: %w", err)
		}
		out = b
	}
	if len(out) == 0 {
		return nil
	}
	_, err := w.Write(append(out, '\n'))
	return err
}

// ErrorBody is the object inside {"error": …}.
type ErrorBody struct {
	Code    sdk.Code `json:"code"`
	Message string   `json:"message"`
	Hint    string   `json:"hint,omitempty"`
}

// ErrorDoc is the document printed on stdout for a failure in JSON or TOON
// mode.
type ErrorDoc struct {
	Error ErrorBody `json:"error"`
}

// Error writes e. In text mode it goes to stderr, colored when color is set;
// otherwise to stdout as an ErrorDoc.
func Error(stdout, stderr io.Writer, f Format, e *sdk.Error, color bool) {
	if f == JSON || f == TOON {
		_ = Result(stdout, f, ErrorDoc{Error: ErrorBody{Code: e.Code, Message: e.Message, Hint: e.Hint}})
		return
	}
	red, yellow, reset := "", "", ""
	if color {
		red, yellow, reset = "\x1b[31m", "\x1b[33m", "\x1b[0m"
	}
	msg := e.Message
	if msg == "" {
		msg = string(e.Code)
	}
	fmt.Fprintf(stderr, "%serror:%s %s (%s)\n", red, reset, msg, e.Code)
	if e.Hint != "" {
		fmt.Fprintf(stderr, "%shint:%s %s\n", yellow, reset, e.Hint)
	}
}

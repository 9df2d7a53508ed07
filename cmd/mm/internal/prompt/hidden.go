package prompt

import (
	"errors"
	"io"
	"unicode/utf8"
)

// maxSecret bounds a secret typed at the terminal (a mnemonic of 24 long
// words is under 250 bytes).
const maxSecret = 4096

// errInterrupted is Ctrl-C typed while a secret is read in raw mode.
var errInterrupted = errors.New("prompt: interrupted")

// readSecretLine reads one line from a terminal in raw mode, which echoes
// nothing and passes every key through. Enter ends the line; Ctrl-C is
// errInterrupted; Ctrl-D on an empty line is io.EOF; Backspace deletes a
// character, Ctrl-U the whole line; other control characters and escape
// sequences (arrow keys) are dropped.
func readSecretLine(r io.Reader) ([]byte, error) {
	line := make([]byte, 0, 256)
	fail := func(err error) ([]byte, error) {
		clear(line[:cap(line)])
		return nil, err
	}
	var b [1]byte
	esc := 0 // 1: after ESC, 2: inside an ESC [ or ESC O sequence
	for {
		n, err := r.Read(b[:])
		if n == 0 {
			if err == nil || err == io.EOF {
				err = io.EOF
			}
			return fail(err)
		}
		c := b[0]
		switch {
		case esc == 1:
			esc = 0
			if c == '[' || c == 'O' {
				esc = 2
			}
			continue
		case esc == 2:
			if c >= 0x40 && c <= 0x7e {
				esc = 0
			}
			continue
		}
		switch c {
		case '\r', '\n':
			return line, nil
		case 0x03: // Ctrl-C
			return fail(errInterrupted)
		case 0x04: // Ctrl-D
			if len(line) == 0 {
				return fail(io.EOF)
			}
		case 0x7f, 0x08: // Backspace
			if len(line) > 0 {
				_, size := utf8.DecodeLastRune(line)
				clear(line[len(line)-size:])
				line = line[:len(line)-size]
			}
		case 0x15: // Ctrl-U
			clear(line)
			line = line[:0]
		case 0x1b:
			esc = 1
		default:
			if c >= 0x20 || c == '\t' {
				if len(line) >= maxSecret {
					return fail(errors.New("prompt: the answer is too long"))
				}
				if len(line) == cap(line) {
					grown := make([]byte, len(line), 2*cap(line))
					copy(grown, line)
					clear(line)
					line = grown
				}
				line = append(line, c)
			}
		}
	}
}

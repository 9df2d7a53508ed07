package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"

	"github.com/chzyer/readline"

	"github.com/mm-wallet/mm/cmd/mm/internal/render"
	"github.com/mm-wallet/mm/sdk"
)

// maxHistory is how many lines the REPL keeps in MM_HOME/history.
const maxHistory = 1000

// replMain runs the interactive shell: `mm` with no arguments on a terminal.
// Every line is an mm command line run by the same app, so a signer
// launched by one command stays warm for the next.
func (a *app) replMain() int {
	a.repl = true
	histPath := ""
	if st, err := a.state(); err == nil {
		histPath = st.Path(historyFile)
	}
	rl, err := readline.NewEx(&readline.Config{
		Prompt:                 "mm> ",
		AutoComplete:           replCompleter{a},
		InterruptPrompt:        "^C",
		EOFPrompt:              "",
		DisableAutoSaveHistory: true,
		HistoryLimit:           maxHistory,
		HistorySearchFold:      true,
		Stdin:                  a.inFile,
		Stdout:                 a.stdout,
		Stderr:                 a.stderr,
	})
	if err != nil {
		return a.fail(sdk.Errorf(sdk.CodeInternal, "repl: start line editor: %w", err))
	}
	defer rl.Close()
	for _, line := range loadHistory(histPath) {
		_ = rl.SaveHistory(line)
	}
	// The line editor owns the terminal: route the prompter through it.
	a.replReadSecret = func(prompt string) ([]byte, error) { return rl.ReadPassword(prompt) }
	a.replReadLine = func(prompt string) (string, error) {
		old := rl.Config.Prompt
		rl.SetPrompt(prompt)
		defer rl.SetPrompt(old)
		return rl.Readline()
	}

	// Ctrl-C while a command runs cancels that command, not the shell.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	var mu sync.Mutex
	var cancel context.CancelFunc
	go func() {
		for range sigs {
			mu.Lock()
			if cancel != nil {
				cancel()
			}
			mu.Unlock()
		}
	}()

	fmt.Fprintf(a.stderr, "mm %s — type a command (e.g. wallet list), help, or Ctrl-D to quit\n", version)
	for {
		line, err := rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			continue
		}
		if err != nil { // io.EOF: Ctrl-D
			return exitOK
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		args, err := splitWords(line)
		if err != nil {
			a.format = render.Text
			a.fail(usageError(codeInvalidInput, err.Error(), "close the quote"))
			continue
		}
		if len(args) > 0 && args[0] == "mm" {
			args = args[1:]
		}
		if len(args) == 0 {
			continue
		}
		if !containsSecretFlag(args) {
			_ = rl.SaveHistory(line)
			appendHistory(histPath, line)
		}
		switch args[0] {
		case "exit", "quit":
			return exitOK
		case "help":
			args = append([]string{"--help"}, args[1:]...)
		}
		ctx, c := context.WithCancel(context.Background())
		mu.Lock()
		cancel = c
		mu.Unlock()
		a.execute(ctx, args)
		mu.Lock()
		cancel = nil
		mu.Unlock()
		c()
	}
}

// containsSecretFlag reports a line that tries to pass a secret; it is run
// (and refused) but never written to the history.
func containsSecretFlag(args []string) bool {
	for _, s := range args {
		for _, f := range []string{"--password", "--mnemonic"} {
			if s == f || strings.HasPrefix(s, f+"=") {
				return true
			}
		}
	}
	return false
}

func loadHistory(path string) []string {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	if len(out) > maxHistory {
		out = out[len(out)-maxHistory:]
	}
	return out
}

// appendHistory adds a line to the history file (mode 0600).
func appendHistory(path, line string) {
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = io.WriteString(f, line+"\n")
}

// splitWords splits a line like a POSIX shell would for simple cases:
// whitespace separates words; single quotes keep everything; double quotes
// keep everything but \" and \\; a backslash outside quotes escapes the next
// character.
func splitWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && (line[i+1] == '"' || line[i+1] == '\\') {
					i++
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errors.New("unterminated double quote")
			}
			inWord = true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// replCompleter completes commands, flags and arguments with cobra's own
// completion engine (the one behind `mm completion bash`).
type replCompleter struct{ a *app }

// Do implements readline.AutoCompleter.
func (c replCompleter) Do(line []rune, pos int) ([][]rune, int) {
	head := string(line[:pos])
	words, err := splitWords(head)
	if err != nil {
		return nil, 0
	}
	partial := ""
	if len(head) > 0 && head[len(head)-1] != ' ' && len(words) > 0 {
		partial = words[len(words)-1]
		words = words[:len(words)-1]
	}
	if len(words) > 0 && words[0] == "mm" {
		words = words[1:]
	}
	cands := c.a.complete(words, partial)
	var out [][]rune
	for _, s := range cands {
		if strings.HasPrefix(s, partial) {
			out = append(out, []rune(s[len(partial):]+" "))
		}
	}
	return out, len([]rune(partial))
}

// complete asks cobra's hidden __complete command for the candidates.
func (a *app) complete(words []string, partial string) []string {
	var buf bytes.Buffer
	sub := newApp(nil, &buf, io.Discard, a.lookupEnv)
	root := sub.newRoot()
	root.SetArgs(append(append([]string{"__complete"}, words...), partial))
	root.SetOut(&buf)
	root.SetErr(io.Discard)
	if err := root.Execute(); err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if l == "" || strings.HasPrefix(l, ":") {
			continue
		}
		name, _, _ := strings.Cut(l, "\t")
		out = append(out, name)
	}
	return out
}

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-delve/liner"

	"github.com/sgxdbg/sgxdbg/internal/inputfile"
	"github.com/sgxdbg/sgxdbg/internal/outputfile"
)

// lineEditor reads the commands of the line prompt (exec --no-tui, core).
// On a terminal it is a real line editor (github.com/go-delve/liner):
// editing keys, history kept across sessions, Tab completion of commands,
// subcommands, registers and symbols, and Enter on an empty line repeats
// the last stepi or x, as in gdb. Otherwise it reads plain lines.
type lineEditor struct {
	ln       *liner.State   // nil: not a terminal
	sc       *bufio.Scanner // without a terminal
	w        io.Writer      // where the plain prompt goes
	warn     io.Writer
	histPath string
	repeat   string // what an empty line runs
	// pending is a read in flight that next stopped waiting for.
	pending chan lineResult
}

// historyFile is the history's kind: its name in errors and its bound.
var historyFile = inputfile.Kind{Name: "history file", Max: 1 << 20}

// historyPath is $XDG_STATE_HOME/sgxdbg/history, else
// ~/.local/state/sgxdbg/history; "" if neither is known.
func historyPath() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "sgxdbg", "history")
}

// newLineEditor reads from in; on a terminal (in and stdout both) it
// edits lines and completes them with complete. The plain prompt is
// written to w; warnings (an unreadable history) to warn.
func newLineEditor(in io.Reader, w, warn io.Writer, complete func(string) []string) *lineEditor {
	e := &lineEditor{w: w, warn: warn}
	f, ok := in.(*os.File)
	if !ok || !isTerminal(f) || !isTerminal(os.Stdout) || !liner.TerminalSupported() {
		e.sc = bufio.NewScanner(in)
		return e
	}
	e.ln = liner.NewLiner()
	e.ln.SetCtrlCAborts(true)
	e.ln.SetTabCompletionStyle(liner.TabPrints)
	e.ln.SetCompleter(complete)
	e.histPath = historyPath()
	if e.histPath != "" {
		b, err := inputfile.ReadFile(e.histPath, historyFile)
		switch {
		case err == nil:
			_, _ = e.ln.ReadHistory(bytes.NewReader(b))
		case !errors.Is(err, fs.ErrNotExist):
			fmt.Fprintf(warn, "sgxdbg: history not read: %v\n", err)
		}
	}
	return e
}

// read returns the next command line, "" for nothing to run, and io.EOF
// at the end of the input.
func (e *lineEditor) read(prompt string) (string, error) {
	if e.ln == nil {
		// next printed the prompt.
		if !e.sc.Scan() {
			if err := e.sc.Err(); err != nil {
				return "", err
			}
			return "", io.EOF
		}
		return strings.TrimSpace(e.sc.Text()), nil
	}
	line, err := e.ln.Prompt(prompt)
	switch {
	case errors.Is(err, liner.ErrPromptAborted):
		return "", nil // Ctrl-C drops the line, as in gdb
	case err != nil:
		return "", err
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return e.repeat, nil
	}
	e.ln.AppendHistory(line)
	e.repeat = repeatOf(line)
	return line, nil
}

// repeatOf is what Enter on an empty line runs after line: stepi again,
// or x going on after the memory line showed (x without ADDR keeps the
// count, format and unit); nothing after other commands.
func repeatOf(line string) string {
	w := strings.Fields(line)
	if len(w) == 0 {
		return ""
	}
	switch {
	case map[string]bool{"stepi": true, "si": true, "nexti": true, "ni": true, "step": true, "s": true, "next": true, "n": true}[w[0]]:
		return line
	case w[0] == "x" || strings.HasPrefix(w[0], "x/"):
		return "x"
	}
	return ""
}

// close saves the history (mode 0600 in a 0700 directory) and gives the
// terminal back.
func (e *lineEditor) close() {
	if e.ln == nil {
		return
	}
	defer e.ln.Close()
	if e.histPath == "" {
		return
	}
	if err := e.saveHistory(); err != nil {
		fmt.Fprintf(e.warn, "sgxdbg: history not saved: %v\n", err)
	}
}

func (e *lineEditor) saveHistory() error {
	if err := os.MkdirAll(filepath.Dir(e.histPath), 0o700); err != nil {
		return err
	}
	f, err := outputfile.Create(e.histPath, outputfile.Options{Mode: 0o600, Force: true})
	if err != nil {
		return err
	}
	if _, err := e.ln.WriteHistory(f); err != nil {
		f.Abort()
		return err
	}
	return f.Close()
}

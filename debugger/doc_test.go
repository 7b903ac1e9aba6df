package debugger_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
)

var update = flag.Bool("update", false, "rewrite docs/commands.md from the command table")

// docPath is the generated command reference.
var docPath = filepath.Join("..", "docs", "commands.md")

// commandsMarkdown renders the command table as the reference in
// docs/commands.md: a summary table, then each command's usage, whole help,
// aliases and whether it lets the host run.
func commandsMarkdown() []byte {
	var b bytes.Buffer
	b.WriteString("# sgxdbg commands\n\n")
	b.WriteString("<!-- Generated from debugger.Commands() by `go test ./debugger -run TestGeneratedDoc -update`. Do not edit. -->\n\n")
	b.WriteString("The command language of `sgxdbg exec` (its prompt, `--batch FILE` and `-x 'cmd; cmd'`) and of the\n")
	b.WriteString("terminal UI. A command that lets the host run ends the stop; the next command runs at the next stop.\n\n")
	b.WriteString("| Command | Aliases | Summary |\n|---|---|---|\n")
	for _, c := range debugger.Commands() {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", c.Name, anchor(c.Name), codeList(c.Aliases), cell(c.Summary()))
	}
	for _, c := range debugger.Commands() {
		fmt.Fprintf(&b, "\n## %s\n\n```\n%s\n```\n\n", c.Name, c.Usage)
		for _, line := range strings.Split(c.Help, "\n") {
			b.WriteString(line + "\n")
		}
		if len(c.Aliases) > 0 {
			fmt.Fprintf(&b, "\nAliases: %s.\n", codeList(c.Aliases))
		}
		if c.Resumes {
			b.WriteString("\nLets the host run: the stop ends.\n")
		}
	}
	return b.Bytes()
}

func anchor(name string) string { return strings.ToLower(name) }

func codeList(words []string) string {
	var out []string
	for _, w := range words {
		out = append(out, "`"+w+"`")
	}
	return strings.Join(out, ", ")
}

// cell escapes a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// TestGeneratedDoc fails when docs/commands.md does not match the command
// table (run with -update to regenerate it).
func TestGeneratedDoc(t *testing.T) {
	want := commandsMarkdown()
	if *update {
		if err := os.MkdirAll(filepath.Dir(docPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(docPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v (generate it: go test ./debugger -run TestGeneratedDoc -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: regenerate it with go test ./debugger -run TestGeneratedDoc -update", docPath)
	}
}

// TestCommandTable checks the table the help and the docs come from: unique
// names and aliases, a usage that starts with the command's name, a
// summary. (TestErrorsNotStopped runs `help NAME` for each of them.)
func TestCommandTable(t *testing.T) {
	seen := map[string]string{}
	for _, c := range debugger.Commands() {
		for _, n := range append([]string{c.Name}, c.Aliases...) {
			if other, dup := seen[n]; dup {
				t.Errorf("%q names both %s and %s", n, other, c.Name)
			}
			seen[n] = c.Name
		}
		if !strings.HasPrefix(c.Usage, c.Name) {
			t.Errorf("%s: usage %q does not start with the name", c.Name, c.Usage)
		}
		if c.Summary() == "" || strings.HasSuffix(c.Summary(), "\n") {
			t.Errorf("%s: summary %q", c.Name, c.Summary())
		}
	}
	for _, name := range []string{"eresume", "handler", "c", "x", "bt", "backtrace"} {
		if _, ok := seen[name]; !ok {
			t.Errorf("no command or alias %q", name)
		}
	}
}

// TestHelpText compares the help listing and one command's whole help, as
// the prompt prints them, with testdata/help.golden (-update rewrites it).
// The help command needs no host: it runs on a session whose host exited.
func TestHelpText(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "clean", "0", "1")
	if st := r.end(); st != 0 {
		t.Fatalf("host exit status %d, want 0", st)
	}
	var b bytes.Buffer
	for _, cmd := range []string{"help", "help eenter-handler", "help si"} {
		res, err := r.s.Exec(cmd)
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		fmt.Fprintf(&b, "(sgxdbg) %s\n%s\n", cmd, res.Text())
	}
	golden := filepath.Join("testdata", "help.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (generate it: go test ./debugger -run TestHelpText -update)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("help text differs from %s (run with -update if the change is meant):\n%s", golden, b.Bytes())
	}
}

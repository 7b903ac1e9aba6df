package debugger

import (
	"sort"
	"strings"

	"github.com/sgxdbg/sgxdbg/enclave"
)

// maxCompletions bounds how many candidates Complete returns.
const maxCompletions = 200

// Complete returns the lines that complete line at its end: command names
// and aliases for the first word; then the command's subcommands or
// words (info, stop-on, help, eenter-handler's flags) or, where an
// address or value goes, ssa.REG, $REG and the symbols of the enclave
// images the session matched. Each candidate is the whole line. It is
// safe from any goroutine: it reads only the command table and the
// images.
func (s *Session) Complete(line string) []string {
	words := strings.Fields(line)
	if len(words) == 0 || (len(words) == 1 && !strings.HasSuffix(line, " ")) {
		prefix := ""
		if len(words) == 1 {
			prefix = words[0]
		}
		var names []string
		for _, c := range commands {
			names = append(names, c.Name)
			names = append(names, c.Aliases...)
		}
		return withPrefix("", prefix, names)
	}
	last := ""
	if !strings.HasSuffix(line, " ") {
		last = words[len(words)-1]
		words = words[:len(words)-1]
	}
	head := line[:len(line)-len(last)]
	name := words[0]
	if strings.HasPrefix(name, "x/") {
		name = "x"
	}
	c := lookup(name)
	if c == nil {
		return nil
	}
	arg := len(words) - 1 // the index of the argument being completed
	switch c.Name {
	case "help":
		if arg == 0 {
			var names []string
			for _, c := range commands {
				names = append(names, c.Name)
			}
			return withPrefix(head, last, names)
		}
	case "info":
		if arg == 0 {
			return withPrefix(head, last, []string{"enclaves", "tcs", "threads", "registers"})
		}
	case "stop-on":
		return withPrefix(head, last, []string{"aex", "eenter", "eexit", "eresume", "enclu-fault", "all", "none"})
	case "eenter-handler":
		if arg > 0 && words[len(words)-1] == "--abi" {
			return withPrefix(head, last, []string{string(ABISamples), string(ABIIntelSDK), string(ABIRaw)})
		}
		if arg%2 == 0 {
			return withPrefix(head, last, []string{"--abi", "--rdi", "--rsi", "--rdx"})
		}
	case "set":
		if arg == 0 {
			return withPrefix(head, last, regWords())
		}
		return withPrefix(head, last, s.valueWords(last))
	case "x", "disas", "write":
		if arg == 0 {
			return withPrefix(head, last, s.valueWords(last))
		}
	}
	return nil
}

// regWords are the SSA registers as ssa.REG and $REG.
func regWords() []string {
	var out []string
	for _, r := range ssaRegs {
		out = append(out, "ssa."+r, "$"+r)
	}
	return out
}

// valueWords are what may stand for an address or a value: registers and
// the matched images' symbols that start with prefix.
func (s *Session) valueWords(prefix string) []string {
	out := regWords()
	s.mu.Lock()
	images := make([]*enclave.Image, 0, len(s.images))
	for _, im := range s.images {
		images = append(images, im)
	}
	s.mu.Unlock()
	seen := map[string]bool{}
	for _, im := range images {
		syms, _ := im.Symbols()
		for _, sym := range syms {
			if sym.Name != "" && strings.HasPrefix(sym.Name, prefix) && !seen[sym.Name] {
				seen[sym.Name] = true
				out = append(out, sym.Name)
			}
		}
	}
	return out
}

// withPrefix returns head+w for each w that starts with prefix, sorted,
// at most maxCompletions.
func withPrefix(head, prefix string, words []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range words {
		if strings.HasPrefix(w, prefix) && !seen[w] {
			seen[w] = true
			out = append(out, head+w)
		}
	}
	sort.Strings(out)
	if len(out) > maxCompletions {
		out = out[:maxCompletions]
	}
	return out
}

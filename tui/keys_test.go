package tui

import (
	"testing"
	"unicode"

	"github.com/sgxdbg/sgxdbg/debugger"
)

// TestKeysMatchPrompt holds the key scheme to its rule: a lowercase
// letter key runs the command the prompt's command or alias of that
// letter names, and no two keys share a key.
func TestKeysMatchPrompt(t *testing.T) {
	prompt := map[string]string{} // letter → command name
	for _, c := range debugger.Commands() {
		for _, n := range append([]string{c.Name}, c.Aliases...) {
			if len(n) == 1 {
				prompt[n] = c.Name
			}
		}
	}
	k := DefaultKeyMap()
	runs := k.commands()
	runs = append(runs, keyCommand{k.Teardown, "teardown"}, keyCommand{k.Break, "break"},
		keyCommand{k.Help, "help"}, keyCommand{k.Quit, "quit"}, keyCommand{k.Command, ""})
	seen := map[string]string{}
	for _, r := range runs {
		for _, key := range r.key.Keys() {
			if other, ok := seen[key]; ok {
				t.Errorf("key %q runs both %q and %q", key, other, r.command)
			}
			seen[key] = r.command
			if len(key) != 1 || !unicode.IsLower(rune(key[0])) {
				continue
			}
			if want, ok := prompt[key]; ok && want != r.command {
				t.Errorf("key %q runs %q; the prompt's %q is %q", key, r.command, key, want)
			}
		}
	}
	// The scheme's letters, as the README's table gives them.
	for key, want := range map[string]string{"c": "continue", "s": "step", "n": "next", "u": "until", "b": "break", "e": "eresume", "F": "finish", "I": "stepi", "H": "eenter-handler", "T": "teardown", "J": "skip", "K": "kill"} {
		if seen[key] != want {
			t.Errorf("key %q runs %q, want %q", key, seen[key], want)
		}
	}
}

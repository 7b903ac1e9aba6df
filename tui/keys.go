package tui

import (
	"charm.land/bubbles/v2/key"
)

// KeyMap is every key binding. The action bindings are enabled only while
// their action is valid, so the action bar (the short help) shows exactly
// the actions that can be taken now.
//
// The scheme follows gdb: a lowercase key means what the prompt command
// (or alias) of the same letter means — c continue, h help, q quit — and
// s, n, f, b, i are left for step, next, finish, break and info. The
// SGX actions, which change the enclave's state, are uppercase: H the
// enclave's handler, T teardown, J skip (jump past the faulting
// instruction), I stepi (one instruction), K kill; e (ERESUME) has no gdb
// meaning to clash with.
type KeyMap struct {
	// Actions at a stop: one key each.
	ERESUME  key.Binding
	Handler  key.Binding
	Teardown key.Binding
	Skip     key.Binding
	Stepi    key.Binding
	Continue key.Binding
	Kill     key.Binding

	// Always.
	Command key.Binding
	Help    key.Binding
	Quit    key.Binding
	Abort   key.Binding // ctrl+c: leave at once, killing the host

	// Panes.
	Next     key.Binding
	Prev     key.Binding
	Zoom     key.Binding
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding

	// Answers to a confirmation.
	Yes key.Binding
}

// DefaultKeyMap returns sgxdbg's keys.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return KeyMap{
		ERESUME:  b([]string{"e"}, "e", "ERESUME"),
		Handler:  b([]string{"H"}, "H", "handler"),
		Teardown: b([]string{"T"}, "T", "teardown"),
		Skip:     b([]string{"J"}, "J", "skip"),
		Stepi:    b([]string{"I"}, "I", "stepi"),
		Continue: b([]string{"c"}, "c", "continue"),
		Kill:     b([]string{"K"}, "K", "kill"),

		Command: b([]string{":"}, ":", "cmd"),
		Help:    b([]string{"?", "h"}, "?", "help"),
		Quit:    b([]string{"q"}, "q", "quit"),
		Abort:   b([]string{"ctrl+c"}, "ctrl+c", "quit now (kills the host)"),

		Next:     b([]string{"tab"}, "tab", "next pane"),
		Prev:     b([]string{"shift+tab"}, "shift+tab", "previous pane"),
		Zoom:     b([]string{"z"}, "z", "zoom the pane"),
		Up:       b([]string{"up", "k"}, "↑/k", "scroll up"),
		Down:     b([]string{"down", "j"}, "↓/j", "scroll down"),
		PageUp:   b([]string{"pgup"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "space"}, "pgdn/space", "page down"),
		Top:      b([]string{"home", "g"}, "home/g", "top"),
		Bottom:   b([]string{"end", "G"}, "end/G", "bottom"),

		Yes: b([]string{"y", "Y"}, "y", "yes"),
	}
}

// ShortHelp is the action bar: the valid actions, then the general keys.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.ERESUME, k.Handler, k.Teardown, k.Skip, k.Stepi, k.Continue, k.Kill, k.Command, k.Help, k.Quit}
}

// FullHelp is every key, in columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	all := func(bs ...key.Binding) []key.Binding {
		// The full help lists every action, valid now or not.
		out := make([]key.Binding, len(bs))
		for i, b := range bs {
			b.SetEnabled(true)
			out[i] = b
		}
		return out
	}
	return [][]key.Binding{
		all(k.ERESUME, k.Handler, k.Teardown, k.Skip, k.Stepi, k.Continue, k.Kill),
		all(k.Next, k.Prev, k.Zoom, k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom),
		all(k.Command, withHelp(k.Help, "?/h", "help"), k.Quit, k.Abort),
	}
}

// withHelp is b with another help text.
func withHelp(b key.Binding, k, desc string) key.Binding {
	b.SetHelp(k, desc)
	return b
}

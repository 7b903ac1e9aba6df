package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// KeyMap is every key binding. The action bindings are enabled only while
// their action is valid, so the action bar (the short help) shows exactly
// the actions that can be taken now.
//
// The scheme follows gdb: a lowercase key means what the prompt command
// (or alias) of the same letter means — c continue, s step, n next, u
// until, b break, e eresume, h help, q quit (TestKeysMatchPrompt holds
// every key to it). Where the prompt's letter means something else, the
// key is uppercase: F finish (the prompt's f is frame, which the
// backtrace pane's enter does), I stepi (i is info). The SGX actions that
// change the enclave's state are uppercase too: H the enclave's handler,
// T teardown, J skip (jump past the faulting instruction), K kill.
type KeyMap struct {
	// Actions at a stop: one key each.
	ERESUME  key.Binding
	Handler  key.Binding
	Teardown key.Binding
	Skip     key.Binding
	Stepi    key.Binding
	Continue key.Binding
	Kill     key.Binding

	// Source-level motion and breakpoints at a stop.
	Step   key.Binding
	NextLn key.Binding // next (Next is the next pane)
	Finish key.Binding
	Until  key.Binding
	Break  key.Binding // on the code pane's cursor line

	// Always.
	Command key.Binding
	Help    key.Binding
	Quit    key.Binding
	// Abort is ctrl+c: while the host runs, interrupt it (again: leave);
	// otherwise leave at once, killing the host.
	Abort key.Binding

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
	Select   key.Binding // enter: select the backtrace pane's frame
	Source   key.Binding // show source text in the code pane, or not

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

		Step:   b([]string{"s"}, "s", "step"),
		NextLn: b([]string{"n"}, "n", "next"),
		Finish: b([]string{"F"}, "F", "finish"),
		Until:  b([]string{"u"}, "u", "until"),
		Break:  b([]string{"b"}, "b", "break"),

		Command: b([]string{":"}, ":", "cmd"),
		Help:    b([]string{"?", "h"}, "?", "help"),
		Quit:    b([]string{"q"}, "q", "quit"),
		Abort:   b([]string{"ctrl+c"}, "ctrl+c", "interrupt the host; stopped: quit now"),

		Next:     b([]string{"tab"}, "tab", "next pane"),
		Prev:     b([]string{"shift+tab"}, "shift+tab", "previous pane"),
		Zoom:     b([]string{"z"}, "z", "zoom the pane"),
		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:   b([]string{"pgup"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "space"}, "pgdn/space", "page down"),
		Top:      b([]string{"home", "g"}, "home/g", "top"),
		Bottom:   b([]string{"end", "G"}, "end/G", "bottom"),
		Select:   b([]string{"enter"}, "enter", "select the frame"),
		Source:   b([]string{"m"}, "m", "source text on/off"),

		Yes: b([]string{"y", "Y"}, "y", "yes"),
	}
}

// ShortHelp is the action bar: the valid actions, then the general keys.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.ERESUME, k.Handler, k.Teardown, k.Skip, k.Stepi, k.Continue, k.Kill, k.Step, k.NextLn, k.Finish, k.Until, k.Break, k.Command, k.Help, k.Quit}
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
		all(k.ERESUME, k.Handler, k.Teardown, k.Skip, k.Stepi, k.Continue, k.Kill, k.Step, k.NextLn, k.Finish, k.Until, k.Break),
		all(k.Next, k.Prev, k.Zoom, k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Select, k.Source),
		all(k.Command, withHelp(k.Help, "?/h", "help"), k.Quit, k.Abort),
	}
}

// withHelp is b with another help text.
func withHelp(b key.Binding, k, desc string) key.Binding {
	b.SetHelp(k, desc)
	return b
}

// keyCommand is an action key and the command it runs.
type keyCommand struct {
	key     key.Binding
	command string
}

// commands pairs the action keys that run one command with it (teardown,
// which asks first, and break, which depends on the cursor, are not here).
func (k *KeyMap) commands() []keyCommand {
	return []keyCommand{
		{k.ERESUME, "eresume"}, {k.Handler, "eenter-handler"}, {k.Skip, "skip"}, {k.Stepi, "stepi"},
		{k.Continue, "continue"}, {k.Kill, "kill"}, {k.Step, "step"}, {k.NextLn, "next"},
		{k.Finish, "finish"}, {k.Until, "until"},
	}
}

// commandOf is the command an enabled action key runs, or "".
func (k *KeyMap) commandOf(msg tea.KeyPressMsg) string {
	for _, c := range k.commands() {
		if key.Matches(msg, c.key) {
			return c.command
		}
	}
	return ""
}

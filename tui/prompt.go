package tui

import (
	"fmt"
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// prompt is the ":" command line: a one-line editor with history and
// completion of command names.
type prompt struct {
	active  bool
	text    []rune
	cur     int      // cursor position in text
	history []string // oldest first
	hist    int      // position while browsing history; len(history) = the new line
	saved   []rune   // the new line while browsing
	names   []string // command names and aliases, for completion
	// lines completes a whole line (subcommands, registers, symbols);
	// nil: only command names are completed.
	lines func(line string) []string
}

func newPrompt(names []string, lines func(string) []string) prompt {
	sort.Strings(names)
	return prompt{names: names, lines: lines}
}

// open starts editing an empty line.
func (p *prompt) open() {
	p.active, p.text, p.cur, p.hist, p.saved = true, nil, 0, len(p.history), nil
}

// promptResult is what a key did to the prompt.
type promptResult int

const (
	promptEditing promptResult = iota
	promptDone                 // enter: the line is ready
	promptCancel               // esc, or backspace on an empty line
)

func (r promptResult) String() string {
	switch r {
	case promptEditing:
		return "editing"
	case promptDone:
		return "done"
	case promptCancel:
		return "cancel"
	}
	return fmt.Sprintf("promptResult(%d)", int(r))
}

// Update edits the line. On promptDone the line has been added to the
// history and the prompt is closed.
func (p *prompt) Update(msg tea.KeyPressMsg) (promptResult, string) {
	switch msg.String() {
	case "enter":
		line := strings.TrimSpace(string(p.text))
		p.active = false
		if line != "" && (len(p.history) == 0 || p.history[len(p.history)-1] != line) {
			p.history = append(p.history, line)
		}
		return promptDone, line
	case "esc", "ctrl+g":
		p.active = false
		return promptCancel, ""
	case "backspace", "ctrl+h":
		if len(p.text) == 0 {
			p.active = false
			return promptCancel, ""
		}
		if p.cur > 0 {
			p.text = append(p.text[:p.cur-1], p.text[p.cur:]...)
			p.cur--
		}
	case "delete", "ctrl+d":
		if p.cur < len(p.text) {
			p.text = append(p.text[:p.cur], p.text[p.cur+1:]...)
		}
	case "left", "ctrl+b":
		p.cur = max(0, p.cur-1)
	case "right", "ctrl+f":
		p.cur = min(len(p.text), p.cur+1)
	case "home", "ctrl+a":
		p.cur = 0
	case "end", "ctrl+e":
		p.cur = len(p.text)
	case "ctrl+u":
		p.text, p.cur = append([]rune(nil), p.text[p.cur:]...), 0
	case "ctrl+k":
		p.text = p.text[:p.cur]
	case "ctrl+w":
		i := p.cur
		for i > 0 && p.text[i-1] == ' ' {
			i--
		}
		for i > 0 && p.text[i-1] != ' ' {
			i--
		}
		p.text, p.cur = append(p.text[:i], p.text[p.cur:]...), i
	case "up", "ctrl+p":
		if p.hist > 0 {
			if p.hist == len(p.history) {
				p.saved = p.text
			}
			p.hist--
			p.set(p.history[p.hist])
		}
	case "down", "ctrl+n":
		if p.hist < len(p.history) {
			p.hist++
			if p.hist == len(p.history) {
				p.set(string(p.saved))
			} else {
				p.set(p.history[p.hist])
			}
		}
	case "tab":
		p.complete()
	default:
		if t := msg.Key().Text; t != "" {
			r := []rune(t)
			p.text = append(p.text[:p.cur], append(r, p.text[p.cur:]...)...)
			p.cur += len(r)
		}
	}
	return promptEditing, ""
}

func (p *prompt) set(s string) {
	p.text = []rune(s)
	p.cur = len(p.text)
}

// complete extends the line to the longest common prefix of its
// completions: the session's (commands, subcommands, registers, symbols)
// or, without them, the command names that the first word starts.
func (p *prompt) complete() {
	s := string(p.text)
	if p.cur != len(p.text) {
		return
	}
	var match []string
	switch {
	case p.lines != nil:
		match = p.lines(s)
	case !strings.ContainsRune(s, ' '):
		for _, n := range p.names {
			if strings.HasPrefix(n, s) {
				match = append(match, n)
			}
		}
	}
	if len(match) == 0 {
		return
	}
	common := match[0]
	for _, m := range match[1:] {
		for !strings.HasPrefix(m, common) {
			common = common[:len(common)-1]
		}
	}
	if len(match) == 1 {
		common += " "
	}
	if len(common) >= len(s) {
		p.set(common)
	}
}

// View renders "(sgxdbg) text" with a block cursor.
func (p *prompt) View(st Styles) string {
	before, at, after := string(p.text[:p.cur]), " ", ""
	if p.cur < len(p.text) {
		at, after = string(p.text[p.cur]), string(p.text[p.cur+1:])
	}
	return st.Prompt.Render("(sgxdbg) ") + before + st.Current.Render(at) + after
}

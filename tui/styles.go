package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// Styles are every style the UI uses, built for a light or a dark
// terminal background. Lip Gloss renders full colour; Bubble Tea
// downsamples at output to what the terminal supports, and to no colour
// at all under NO_COLOR. Nothing depends on colour alone: focus, the
// faulting instruction and every highlight also have a textual mark.
type Styles struct {
	Bar       lipgloss.Style // the top bar
	BarState  lipgloss.Style // the stop summary in the top bar
	Rule      lipgloss.Style // a pane's title rule
	RuleFocus lipgloss.Style // the focused pane's title rule
	Dim       lipgloss.Style // secondary text: source lines, legends
	Vector    lipgloss.Style // an exception vector
	Differs   lipgloss.Style // a host register that differs from the enclave's
	Changed   lipgloss.Style // a value changed since the previous stop
	Handler   lipgloss.Style // an SSA field the exception handler changed
	Current   lipgloss.Style // the faulting instruction
	Cursor    lipgloss.Style // a pane's cursor line (it also has a › mark)
	Break     lipgloss.Style // a breakpoint's mark
	Error     lipgloss.Style // errors
	Info      lipgloss.Style // messages
	Stderr    lipgloss.Style // the host's standard error
	Prompt    lipgloss.Style // the command prompt
	Help      help.Styles    // the action bar and the full help
}

// NewStyles returns the styles for a dark or a light background.
func NewStyles(isDark bool) Styles {
	ld := lipgloss.LightDark(isDark)
	accent := ld(lipgloss.Color("#5A3FC0"), lipgloss.Color("#9D8CFF"))
	warn := ld(lipgloss.Color("#B35C00"), lipgloss.Color("#FFB454"))
	bad := ld(lipgloss.Color("#C0262D"), lipgloss.Color("#FF6B6B"))
	good := ld(lipgloss.Color("#1C7C3A"), lipgloss.Color("#7BD88F"))
	dim := ld(lipgloss.Color("#7A7A7A"), lipgloss.Color("#8A8A8A"))
	h := help.DefaultStyles(isDark)
	h.ShortKey = h.ShortKey.Bold(true).Foreground(accent)
	h.FullKey = h.FullKey.Bold(true).Foreground(accent)
	return Styles{
		Bar:       lipgloss.NewStyle().Bold(true).Foreground(accent),
		BarState:  lipgloss.NewStyle().Bold(true).Foreground(warn),
		Rule:      lipgloss.NewStyle().Foreground(dim),
		RuleFocus: lipgloss.NewStyle().Bold(true).Foreground(accent),
		Dim:       lipgloss.NewStyle().Foreground(dim),
		Vector:    lipgloss.NewStyle().Bold(true).Foreground(bad),
		Differs:   lipgloss.NewStyle().Foreground(warn),
		Changed:   lipgloss.NewStyle().Bold(true).Underline(true),
		Handler:   lipgloss.NewStyle().Bold(true).Foreground(good),
		Current:   lipgloss.NewStyle().Bold(true).Reverse(true),
		Cursor:    lipgloss.NewStyle().Reverse(true),
		Break:     lipgloss.NewStyle().Bold(true).Foreground(bad),
		Error:     lipgloss.NewStyle().Bold(true).Foreground(bad),
		Info:      lipgloss.NewStyle().Foreground(good),
		Stderr:    lipgloss.NewStyle().Foreground(bad),
		Prompt:    lipgloss.NewStyle().Bold(true).Foreground(accent),
		Help:      h,
	}
}

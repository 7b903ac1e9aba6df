package tui

import (
	"strconv"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// mortal is what a Session offers when it can tell that its host died
// while held at a stop (*debugger.Session does).
type mortal interface {
	HostDead() bool
}

// deathPoll is how often the UI, idle at a stop, asks whether the host
// died there.
const deathPoll = 250 * time.Millisecond

// deathMsg is a death check's answer.
type deathMsg struct{ dead bool }

// watchDeath checks, after deathPoll, whether the host died (nil when the
// session cannot tell).
func (m *Model) watchDeath() tea.Cmd {
	mo, ok := m.cfg.Session.(mortal)
	if !ok {
		return nil
	}
	return tea.Tick(deathPoll, func(time.Time) tea.Msg { return deathMsg{dead: mo.HostDead()} })
}

// onDeath takes a death check: at an idle stop, a dead host is waited
// for (Wait reaps it and reports its end); otherwise the watch goes on
// until the host's end.
func (m *Model) onDeath(msg deathMsg) tea.Cmd {
	switch {
	case m.state == stateExited:
		return nil
	case msg.dead && m.state == stateStopped:
		m.state, m.busyWhat = stateRunning, ""
		m.updateActions()
		m.sync()
		return tea.Batch(waitCmd(m.cfg.Session, m.cfg.TTY), m.startSpinner())
	}
	return m.watchDeath()
}

// endText says how the host ended: "exited with status 2", "killed by
// SIGKILL".
func endText(end target.ExitStatus, status int) string {
	if end.Signal != 0 {
		return end.String()
	}
	return "exited with status " + strconv.Itoa(status)
}

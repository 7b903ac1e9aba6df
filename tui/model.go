package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// state is what the session is doing, as far as the UI knows.
type state int

const (
	stateRunning state = iota // a Wait is in flight: the host runs
	stateBusy                 // a command runs at a stop
	stateStopped              // the host is held at a stop, idle
	stateExited               // the host has ended
)

func (s state) String() string {
	switch s {
	case stateRunning:
		return "running"
	case stateBusy:
		return "busy"
	case stateStopped:
		return "stopped"
	case stateExited:
		return "exited"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Config is what a Model shows and drives.
type Config struct {
	Session Session
	// Events is the feed that debugger.Options.OnEvent pushes to; nil if
	// events only come from the timeline read at each stop.
	Events *Feed[target.Event]
	// Output is the host's output; nil if it is not captured.
	Output *Feed[OutputLine]
	// Title names the host in the top bar.
	Title string
	// Memory is the first memory view's x command (default x/8xg ssa.rsp).
	Memory string
	// TTY: the host's stdin, stdout and stderr are the terminal; the UI
	// gives the terminal back to it while it runs.
	TTY bool
	// ReadOnly: the session is a core file. The actions that need a live
	// host are not offered, and q leaves without asking.
	ReadOnly bool
	// Quit, when closed, ends the UI (Run): the caller caught a signal.
	Quit <-chan struct{}
}

// Outcome is how the session stood when the UI ended.
type Outcome struct {
	HostEnded bool // the host has ended: exited, or killed by kill or quit
	Status    int  // its exit status, when it exited on its own
	// End says how: its exit code or the signal that killed it.
	End target.ExitStatus
	// HeldAtStop: the host is alive and held at a stop; the caller may
	// kill it through the session. A live host that is not held is
	// running (or a command is in flight) and ends with sgxdbg
	// (PTRACE_O_EXITKILL).
	HeldAtStop bool
	Quit       bool // the user left before the host ended on its own
}

// confirmation is a y/n question before an action.
type confirmation struct {
	question string
	line     string // the command to run on yes; "" quits
}

// Model is the root Bubble Tea model.
type Model struct {
	cfg    Config
	keys   KeyMap
	styles Styles
	help   help.Model
	spin   spinner.Model
	prompt prompt

	state    state
	busyWhat string
	ticking  bool
	gen      int          // counts stops
	stop     target.Event // the current stop
	status   int          // the host's exit status once it ended
	end      target.ExitStatus

	results  map[paneID]execResult // the panes' last views
	timeline []target.Event
	tlLines  []string                // the timeline's rendered lines; "" not yet rendered
	evTotal  int                     // events recorded so far, the feed's index of the next one
	prevRegs map[string]debugger.Hex // enclave registers at the previous stop
	curRegs  map[string]debugger.Hex // and at this one
	handler  *debugger.HandlerView   // the last eenter-handler at this stop
	memory   string                  // the memory pane's command
	console  []string
	displays *debugger.DisplayResult // the display expressions at the stop

	// The code and backtrace panes' lines stand for rows and frames; their
	// cursors stay on them while the view (the stop and the selected
	// frame, viewKey) is the same.
	codeRows  []codeRow
	codeKey   string
	btFrames  []int
	btKey     string
	plainCode bool // the code pane shows source locations, not their text

	// interrupting: ctrl+c asked the running host to stop; a second
	// ctrl+c leaves.
	interrupting bool

	message  string
	isError  bool
	confirm  *confirmation
	showHelp bool

	panes [numPanes]pane
	// filled: the pane's lines are rendered from the current data for
	// width fillW; sync clears it for every pane, syncPanes for some.
	filled [numPanes]bool
	fillW  [numPanes]int
	focus  paneID
	zoom   bool
	w, h   int
	quit   bool // the user left before the host's end
}

// New returns the model for a started session; Init waits for its first
// stop.
func New(cfg Config) *Model {
	if cfg.Memory == "" {
		cfg.Memory = "x/8xg ssa.rsp"
	}
	var names []string
	for _, c := range debugger.Commands() {
		names = append(names, c.Name)
		names = append(names, c.Aliases...)
	}
	m := &Model{
		cfg:     cfg,
		keys:    DefaultKeyMap(),
		styles:  NewStyles(true),
		help:    help.New(),
		spin:    spinner.New(spinner.WithSpinner(spinner.MiniDot)),
		prompt:  newPrompt(names, completer(cfg.Session)),
		results: map[paneID]execResult{},
		memory:  cfg.Memory,
		w:       100,
		h:       30,
	}
	m.help.Styles = m.styles.Help
	m.help.ShortSeparator = "  "
	for i := range m.panes {
		m.panes[i].title = paneID(i).String()
	}
	m.panes[paneTimeline].follow = true
	m.panes[paneDisas].hasCursor = true
	m.panes[paneBT].hasCursor = true
	m.panes[paneConsole].follow = true
	m.focus = paneRegs
	m.panes[m.focus].Focus()
	m.updateActions()
	m.sync()
	return m
}

// Outcome tells how the session stands.
func (m *Model) Outcome() Outcome {
	return Outcome{HostEnded: m.state == stateExited, Status: m.status, End: m.end, HeldAtStop: m.state == stateStopped, Quit: m.quit}
}

// Init waits for the first stop and starts listening to the feeds.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(waitCmd(m.cfg.Session, m.cfg.TTY), m.startSpinner(), tea.RequestBackgroundColor, m.watchDeath(),
		listen(m.cfg.Events, func(b batch[target.Event]) tea.Msg { return eventsMsg(b) }),
		listen(m.cfg.Output, func(b batch[OutputLine]) tea.Msg { return outputMsg(b) }))
}

// Update routes a message: sizes, session results and feeds to the model,
// keys first to the global bindings, then to an open question, the
// prompt or the help, and otherwise to the focused pane.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.help.SetWidth(m.w)
		m.sync()
		return m, nil
	case tea.BackgroundColorMsg:
		m.styles = NewStyles(msg.IsDark())
		m.help.Styles = m.styles.Help
		m.tlLines = nil
		m.sync()
		return m, nil
	case spinner.TickMsg:
		if m.state != stateRunning && m.state != stateBusy {
			m.ticking = false
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case stopMsg:
		return m, m.onStop(msg)
	case deathMsg:
		return m, m.onDeath(msg)
	case refreshMsg:
		m.onRefresh(msg)
		return m, nil
	case actionMsg:
		return m, m.onAction(msg)
	case interruptMsg:
		if msg.err != nil && m.state == stateRunning {
			m.interrupting = false
			m.setMessage("interrupt: "+msg.err.Error(), true)
		}
		return m, nil
	case eventsMsg:
		for i, ev := range msg.items {
			if msg.first+i == m.evTotal {
				m.timeline = append(m.timeline, ev)
				m.evTotal++
			}
		}
		if n := len(m.timeline); n > 0 {
			m.timeline = keepTail(m.timeline, debugger.TimelineHead+debugger.TimelineWindow)
			if len(m.timeline) != n {
				m.tlLines = nil // the lines moved
			}
		}
		m.syncPanes(paneTimeline)
		if msg.closed {
			return m, nil
		}
		return m, listen(m.cfg.Events, func(b batch[target.Event]) tea.Msg { return eventsMsg(b) })
	case outputMsg:
		for _, l := range msg.items {
			text := l.Text
			if l.Stderr {
				text = m.styles.Stderr.Render(text)
			}
			m.log(text)
		}
		m.syncPanes(paneConsole)
		if msg.closed {
			return m, nil
		}
		return m, listen(m.cfg.Output, func(b batch[OutputLine]) tea.Msg { return outputMsg(b) })
	case tea.KeyPressMsg:
		return m, m.onKey(msg)
	}
	return m, nil
}

// keepTail returns the last n of evs, in memory of their own once evs has
// grown to twice n (the timeline of a long run stays bounded).
func keepTail(evs []target.Event, n int) []target.Event {
	if len(evs) < 2*n {
		return evs
	}
	return append([]target.Event(nil), evs[len(evs)-n:]...)
}

func (m *Model) startSpinner() tea.Cmd {
	if m.ticking {
		return nil
	}
	m.ticking = true
	return m.spin.Tick
}

// onStop takes the end of a Wait: read every pane's view at a stop, or
// the timeline once the host has ended.
func (m *Model) onStop(msg stopMsg) tea.Cmd {
	m.confirm = nil
	m.interrupting = false
	if msg.err != nil || msg.stopped.Exited {
		m.state = stateExited
		m.status, m.end = msg.stopped.Status, msg.stopped.End
		how := endText(m.end, m.status)
		if m.end.Signal != 0 {
			how = "was " + how
		}
		m.setMessage("the host "+how, false)
		if msg.err != nil {
			m.setMessage(fmt.Sprintf("the host ended (status %d): %v", m.status, msg.err), true)
		}
		m.updateActions()
		m.sync()
		// The timeline is still there after the end.
		return refreshCmd(m.cfg.Session, m.gen, []paneCommand{{paneTimeline, "events"}})
	}
	m.gen++
	m.stop = msg.stopped.Event
	m.prevRegs, m.curRegs = m.curRegs, nil
	m.handler = nil
	m.displays = msg.stopped.Displays
	m.setMessage("stopped: "+eventSummary(m.stop), false)
	if r := msg.stopped.Reason; r != nil && r.Message != "" {
		// Why the debugger stopped (a breakpoint, a step, an interrupt),
		// as gdb says it: whole in the console, in one line below.
		for _, l := range strings.Split(r.Message, "\n") {
			m.log(l)
		}
		m.setMessage(oneLine(r.Message), r.Kind == "error")
	}
	if d := m.displays; d != nil && len(d.Displays) > 0 {
		for _, l := range renderText(d.Text()) {
			m.log(l)
		}
	}
	return m.refresh("reading the stop")
}

// refresh reads every pane's view at the current stop.
func (m *Model) refresh(what string) tea.Cmd {
	m.state, m.busyWhat = stateBusy, what
	m.updateActions()
	m.sync()
	cmds := []paneCommand{
		{paneEnclaves, "info enclaves"}, {paneSSA, "ssa"}, {paneRegs, "regs"}, {paneDisas, "disas"},
		{paneBT, "bt"}, {paneLocals, "info locals"}, {resArgs, "info args"}, {resDisplays, "display"},
		{resBreaks, "info breakpoints"}, {paneMemory, m.memory}, {paneTimeline, "events"},
	}
	return tea.Batch(refreshCmd(m.cfg.Session, m.gen, cmds), m.startSpinner())
}

// onRefresh stores the views read at a stop.
func (m *Model) onRefresh(msg refreshMsg) {
	if msg.gen != m.gen {
		return
	}
	for id, r := range msg.results {
		m.results[id] = r
	}
	if ev, ok := msg.results[paneTimeline].result.(*debugger.EventsResult); ok {
		m.timeline = append([]target.Event(nil), ev.Events...)
		m.tlLines = nil
		m.evTotal = max(m.evTotal, ev.Total)
	}
	if r, ok := msg.results[paneRegs].result.(*debugger.RegsResult); ok {
		m.curRegs = map[string]debugger.Hex{}
		for _, row := range r.Rows {
			m.curRegs[row.Name] = row.Enclave
		}
	}
	if m.state != stateExited {
		m.state = stateStopped
	}
	m.updateActions()
	m.sync()
}

// onAction takes the result of an action or a prompt command: after one
// that resumed the host, wait for the next stop; otherwise read the views
// again, since the command may have changed what they show.
func (m *Model) onAction(msg actionMsg) tea.Cmd {
	m.log(m.styles.Prompt.Render("(sgxdbg) ") + msg.line)
	if isQuit(msg.err) {
		// quit killed the host.
		m.state, m.quit = stateExited, true
		return tea.Quit
	}
	switch {
	case msg.err != nil:
		m.log(m.styles.Error.Render("error: " + msg.err.Error()))
		m.setMessage(msg.err.Error(), true)
	case msg.result != nil:
		for _, l := range renderText(msg.result.Text()) {
			m.log(l)
		}
		m.showResult(msg)
	}
	if m.state == stateExited {
		m.sync()
		return nil
	}
	if !msg.stopped {
		m.state, m.busyWhat = stateRunning, ""
		m.updateActions()
		m.sync()
		return tea.Batch(waitCmd(m.cfg.Session, m.cfg.TTY), m.startSpinner())
	}
	return m.refresh("reading the views")
}

// showResult puts a command's result where it belongs: a memory view in
// the memory pane, a handler run beside its SSA frame, an action's
// message in the status line, any other view in the console.
func (m *Model) showResult(msg actionMsg) {
	switch r := msg.result.(type) {
	case *debugger.MemoryResult:
		m.memory = msg.line
		m.setMessage("memory: "+msg.line, false)
	case *debugger.HandlerView:
		m.handler = r
		first, _, _ := strings.Cut(r.Text(), "\n")
		m.setMessage(first, r.Nested != nil)
	case *debugger.ActionResult:
		m.setMessage(r.Message, false)
	case *debugger.BreakResult:
		m.setMessage(r.Message, false)
	case *debugger.FrameResult:
		m.setMessage(oneLine(r.Text()), false)
	default:
		m.setMessage(msg.line+": see the console", false)
		m.setFocus(paneConsole)
	}
}

func (m *Model) setMessage(s string, isError bool) { m.message, m.isError = s, isError }

// log appends lines to the console.
func (m *Model) log(line string) {
	const keep = 2000
	m.console = append(m.console, expandTabs(line))
	if len(m.console) > keep {
		m.console = m.console[len(m.console)-keep:]
	}
}

// run starts a command line at the stop (or, after the host's end, one
// that reads what is left, like events).
func (m *Model) run(line string) tea.Cmd {
	if m.state != stateStopped && m.state != stateExited {
		m.setMessage("the host is running: commands run at stops", true)
		return nil
	}
	if m.state == stateExited {
		return execCmd(m.cfg.Session, line)
	}
	m.state, m.busyWhat = stateBusy, line
	m.updateActions()
	m.sync()
	return tea.Batch(execCmd(m.cfg.Session, line), m.startSpinner())
}

// leave ends the program.
func (m *Model) leave() tea.Cmd {
	m.quit = m.quit || m.state != stateExited
	return tea.Quit
}

// onKey handles a key press.
func (m *Model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.keys.Abort) {
		if it := interrupter(m.cfg.Session); it != nil && m.state == stateRunning && !m.interrupting {
			m.interrupting = true
			m.setMessage("interrupting the host… (ctrl+c again quits, killing it)", false)
			return interruptCmd(m.cfg.Session, it)
		}
		return m.leave()
	}
	if m.confirm != nil {
		c := m.confirm
		m.confirm = nil
		if !key.Matches(msg, m.keys.Yes) {
			m.setMessage("cancelled", false)
			return nil
		}
		if c.line == "" {
			return m.leave()
		}
		return m.run(c.line)
	}
	if m.prompt.active {
		res, line := m.prompt.Update(msg)
		if res == promptDone && line != "" {
			return m.run(line)
		}
		return nil
	}
	if m.showHelp {
		if key.Matches(msg, m.keys.Help, m.keys.Quit) || msg.String() == "esc" {
			m.showHelp = false
		}
		return nil
	}
	k := &m.keys
	switch {
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.Quit):
		if m.state == stateExited || m.cfg.ReadOnly {
			return m.leave()
		}
		m.confirm = &confirmation{question: "Quit? The host will be killed."}
	case key.Matches(msg, k.Command):
		if m.state != stateStopped && m.state != stateExited {
			m.setMessage("the host is running: commands run at stops", true)
			return nil
		}
		m.prompt.open()
	case key.Matches(msg, k.Next):
		m.setFocus((m.focus + 1) % numPanes)
	case key.Matches(msg, k.Prev):
		m.setFocus((m.focus + numPanes - 1) % numPanes)
	case key.Matches(msg, k.Zoom):
		m.zoom = !m.zoom
		m.layout()
	case key.Matches(msg, k.Teardown):
		m.confirm = &confirmation{question: fmt.Sprintf("Tear down enclave %#x? Its pages go away and the host sees a lost enclave.", m.stop.Enclave), line: "teardown"}
	case k.commandOf(msg) != "":
		return m.run(k.commandOf(msg))
	case key.Matches(msg, k.Break):
		return m.toggleBreak()
	case key.Matches(msg, k.Source):
		m.plainCode = !m.plainCode
		m.setMessage(map[bool]string{false: "code: source lines with their text", true: "code: source locations only"}[m.plainCode], false)
		m.syncPanes(paneDisas)
	case key.Matches(msg, k.Select) && m.focus == paneBT:
		return m.selectFrame()
	default:
		for _, b := range []key.Binding{k.ERESUME, k.Handler, k.Teardown, k.Skip, k.Stepi, k.Continue, k.Kill, k.Command,
			k.Step, k.NextLn, k.Finish, k.Until, k.Break} {
			if slices.Contains(b.Keys(), msg.String()) {
				m.setMessage(fmt.Sprintf("%s (%s) is not available now", b.Help().Key, b.Help().Desc), true)
				return nil
			}
		}
		m.panes[m.focus].Update(msg, m.keys)
	}
	return nil
}

// toggleBreak sets a breakpoint on the code pane's cursor line, or
// deletes the one there.
func (m *Model) toggleBreak() tea.Cmd {
	c := m.panes[paneDisas].cursor
	if c < 0 || c >= len(m.codeRows) {
		m.setMessage("b: the code pane shows no code", true)
		return nil
	}
	br, _ := m.results[resBreaks].result.(*debugger.BreakpointsResult)
	return m.run(breakLine(m.codeRows[c], newBreakMarks(br)))
}

// selectFrame makes the backtrace pane's cursor frame the one the views
// follow (frame N).
func (m *Model) selectFrame() tea.Cmd {
	c := m.panes[paneBT].cursor
	if c < 0 || c >= len(m.btFrames) || m.btFrames[c] < 0 {
		m.setMessage("enter: put the cursor on a frame", true)
		return nil
	}
	return m.run(fmt.Sprintf("frame %d", m.btFrames[c]))
}

// viewKey names what the code and backtrace panes show: the stop, the
// selected frame and the current instruction (which skip and a handler
// move).
func (m *Model) viewKey() string {
	sel := 0
	if bt, ok := m.results[paneBT].result.(*debugger.BacktraceResult); ok {
		sel = bt.Selected
	}
	var cur debugger.Hex
	if d, ok := m.results[paneDisas].result.(*debugger.DisasResult); ok {
		for _, l := range d.Lines {
			if l.Current {
				cur = l.Addr
			}
		}
	}
	return fmt.Sprintf("%d/%d/%#x", m.gen, sel, uint64(cur))
}

// expandTabs replaces the tabs of a line (gdb's "N\ttext" source lines)
// with spaces to the next multiple of 8 cells.
func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, part := range strings.SplitAfter(s, "\t") {
		text, tab := strings.CutSuffix(part, "\t")
		b.WriteString(text)
		col += ansi.StringWidth(text)
		if tab {
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
		}
	}
	return b.String()
}

// oneLine is a message of several lines on one line, for the status line.
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " · ")
}

func (m *Model) setFocus(id paneID) {
	m.panes[m.focus].Blur()
	m.focus = id
	m.panes[m.focus].Focus()
	m.layout() // the focus changes the rules only
}

// updateActions enables exactly the actions valid now, from what the
// session's views report: a frame to resume from or skip, a free SSA frame
// for the handler (EENTER needs CSSA < NSSA), a live enclave to tear down.
func (m *Model) updateActions() {
	stopped := m.state == stateStopped
	ssa, _ := m.results[paneSSA].result.(*debugger.SSAResult)
	frames := stopped && m.results[paneSSA].err == nil && ssa != nil && len(ssa.Frames) > 0
	aex := stopped && m.stop.Kind == target.EvAEX
	live := false
	if e, ok := m.results[paneEnclaves].result.(*debugger.EnclavesResult); ok && m.results[paneEnclaves].err == nil {
		for _, v := range e.Enclaves {
			live = live || uint64(v.Base) == m.stop.Enclave
		}
	}
	m.keys.ERESUME.SetEnabled(frames)
	m.keys.Skip.SetEnabled(frames)
	m.keys.Stepi.SetEnabled(frames)
	// After a handler run that reached its EEXIT, the handler has answered
	// for this AEX: running it again is not offered (continue completes
	// what the host would do with its answer).
	answered := m.handler != nil && m.handler.Exited
	m.keys.Handler.SetEnabled(aex && frames && ssa.CSSA < ssa.NSSA && !answered)
	m.keys.Teardown.SetEnabled(aex && live)
	m.keys.Continue.SetEnabled(stopped)
	m.keys.Kill.SetEnabled(stopped)
	for _, b := range []*key.Binding{&m.keys.Step, &m.keys.NextLn, &m.keys.Finish, &m.keys.Until} {
		b.SetEnabled(frames && !answered)
	}
	_, code := m.results[paneDisas].result.(*debugger.DisasResult)
	m.keys.Break.SetEnabled(stopped && code && m.results[paneDisas].err == nil)
	if m.cfg.ReadOnly {
		for _, b := range []*key.Binding{&m.keys.ERESUME, &m.keys.Handler, &m.keys.Teardown, &m.keys.Skip, &m.keys.Stepi, &m.keys.Continue, &m.keys.Kill,
			&m.keys.Step, &m.keys.NextLn, &m.keys.Finish, &m.keys.Until, &m.keys.Break} {
			b.SetEnabled(false)
		}
	}
	m.keys.Command.SetEnabled(stopped || m.state == stateExited)
}

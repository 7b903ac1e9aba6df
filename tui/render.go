package tui

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// The render functions turn a command's Result into a pane's styled lines.
// They are pure: the same Result, styles and width give the same lines.

// regMarks is what the registers pane highlights.
type regMarks struct {
	prev    map[string]debugger.Hex // enclave values at the previous stop (nil: first stop)
	handler map[string]bool         // SSA fields the exception handler changed
}

// renderRegs puts the enclave's registers (its newest SSA frame) beside
// what the host sees. A host value that differs is marked ≠, an enclave
// value changed since the previous stop *, one the handler changed H.
// Narrower than regsCompact, the values lose their 0x, and the header and
// the legend go (the pane's rule names the columns; help has the legend).
func renderRegs(r *debugger.RegsResult, m regMarks, st Styles, w int) []string {
	compact := w < regsCompact
	var lines []string
	if !compact {
		lines = append(lines, st.Dim.Render(fmt.Sprintf("%-6s %-18s %2s %-18s", "", "enclave (SSA)", "", "host sees (synthetic)")))
	}
	hexf := func(v debugger.Hex) string {
		if compact {
			return fmt.Sprintf("%016x", uint64(v))
		}
		return fmt.Sprintf("0x%016x", uint64(v))
	}
	for _, row := range r.Rows {
		enc, host := hexf(row.Enclave), hexf(row.Host)
		changed := m.prev != nil && m.prev[row.Name] != row.Enclave
		mark := []byte("  ")
		switch {
		case m.handler[row.Name]:
			enc = st.Handler.Render(enc)
			mark[1] = 'H'
			if changed {
				mark[0] = '*'
			}
		case changed:
			enc = st.Changed.Render(enc)
			mark[0] = '*'
		}
		differs := " "
		if row.Host != row.Enclave {
			host = st.Differs.Render(host)
			differs = st.Differs.Render("≠")
		}
		lines = append(lines, fmt.Sprintf("%-6s %s %s %s %s", row.Name, enc, mark, host, differs))
	}
	switch {
	case len(r.Mismatches) > 0:
		lines = append(lines, st.Error.Render("synthetic state differs from the architecture: "+strings.Join(r.Mismatches, ", ")))
	case !compact:
		lines = append(lines, st.Dim.Render("synthetic state matches SDM Vol. 3D Table 40-1"))
	}
	if !compact {
		lines = append(lines, st.Dim.Render("≠ host differs · * changed since last stop · H handler"))
	}
	return lines
}

// renderSSA lists the SSA frames of the stopped TCS, newest first, with
// what the last eenter-handler run did to its frame.
func renderSSA(r *debugger.SSAResult, hv *debugger.HandlerView, st Styles) []string {
	var lines []string
	for i := len(r.Frames) - 1; i >= 0; i-- {
		f := r.Frames[i]
		if !f.Valid {
			lines = append(lines, fmt.Sprintf("#%d %s", f.Index, st.Dim.Render("EXITINFO not valid: the exit reports no vector")))
		} else {
			lines = append(lines, fmt.Sprintf("#%d %s %s · %s exception", f.Index, st.Vector.Render(f.VectorName), sgx.Vector(f.Vector).Name(), f.ExitType))
		}
		if f.MAddr != nil {
			lines = append(lines, fmt.Sprintf("   maddr %#x · errcd %#x", uint64(*f.MAddr), uint64(*f.ErrCd)))
			if f.ErrWords != "" {
				lines = append(lines, "   "+f.ErrWords)
			}
		}
		l := fmt.Sprintf("   rip %#x", uint64(f.RIP))
		if f.Symbol != "" {
			l += " " + f.Symbol
		}
		lines = append(lines, l)
		if f.Quirk != "" {
			lines = append(lines, "   "+st.Dim.Render(f.Quirk))
		}
		if f.Diagnosis != "" {
			lines = append(lines, "   "+st.Error.Render(f.Diagnosis))
		}
		if hv != nil && hv.Frame == f.Index {
			lines = append(lines, renderHandler(hv, st)...)
		}
	}
	if len(r.Frames) == 0 {
		lines = append(lines, st.Dim.Render("no SSA frame in use (CSSA 0)"))
	}
	return lines
}

// renderHandler tells what an eenter-handler run did.
func renderHandler(hv *debugger.HandlerView, st Styles) []string {
	var lines []string
	switch {
	case hv.Exited:
		l := fmt.Sprintf("   handler: EEXIT RDI %#x RSI %#x", uint64(hv.RDI), uint64(hv.RSI))
		if hv.Status != "" {
			l += " (" + hv.Status + ")"
		}
		lines = append(lines, st.Handler.Render(l))
	case hv.Nested != nil:
		lines = append(lines, st.Error.Render("   handler did not return: "+eventSummary(*hv.Nested)))
	}
	if len(hv.Changes) == 0 {
		lines = append(lines, st.Dim.Render("   the handler changed nothing in this frame"))
	}
	for _, c := range hv.Changes {
		lines = append(lines, st.Handler.Render(fmt.Sprintf("   H %-8s %#x → %#x", c.Field, uint64(c.Old), uint64(c.New))))
	}
	return lines
}

// eventSummary is an event in a few words, for the top bar and the
// handler's report.
func eventSummary(ev target.Event) string {
	switch ev.Kind {
	case target.EvAEX:
		s := fmt.Sprintf("AEX %s %s", ev.VectorName(), ev.Vector.Name())
		if !ev.Valid {
			s = "AEX (no valid EXITINFO)"
		}
		if ev.Production {
			return s + fmt.Sprintf(" · TCS %#x · production enclave: %s", ev.TCS, osSeen(ev))
		}
		return s + fmt.Sprintf(" · TCS %#x · SSA frame %d · rip %#x", ev.TCS, ev.SSA, ev.RIP)
	case target.EvENCLUFault:
		return fmt.Sprintf("%s failed: %s %s", ev.Leaf, ev.VectorName(), ev.Reason)
	case target.EvEENTER, target.EvERESUME:
		if ev.Production {
			return fmt.Sprintf("%s · TCS %#x · production enclave", strings.ToUpper(string(ev.Kind)), ev.TCS)
		}
		return fmt.Sprintf("%s · TCS %#x · CSSA %d", strings.ToUpper(string(ev.Kind)), ev.TCS, ev.CSSA)
	case target.EvEEXIT:
		return fmt.Sprintf("EEXIT · TCS %#x", ev.TCS)
	case target.EvInterrupt:
		return fmt.Sprintf("interrupt in host code · rip %#x", ev.RIP)
	}
	return string(ev.Kind)
}

// renderMemory shows x/…x memory as rows of up to 16 bytes, as many values
// as fit in w cells, each padded to its unit; other formats as the command
// renders them.
func renderMemory(r *debugger.MemoryResult, w int) []string {
	if r.Format != "x" || r.Size <= 0 || len(r.Values) == 0 {
		return renderText(r.Text())
	}
	addrW := len(fmt.Sprintf("%#x:", uint64(r.Addr)+uint64(len(r.Values)*r.Size)))
	per := max(1, min(16/r.Size, (w-addrW)/(2*r.Size+3)))
	var lines []string
	for i := 0; i < len(r.Values); i += per {
		l := fmt.Sprintf("%#x:", uint64(r.Addr)+uint64(i*r.Size))
		for _, v := range r.Values[i:min(i+per, len(r.Values))] {
			l += fmt.Sprintf(" 0x%0*x", 2*r.Size, uint64(v))
		}
		lines = append(lines, l)
	}
	return lines
}

// renderBT shows the backtrace, innermost first: the frame the views
// follow is marked ▸, the boundary between the enclave's frames and the
// host's has its own line. It also returns the frame each line stands
// for (-1 for a boundary) and the selected frame's line.
func renderBT(r *debugger.BacktraceResult, st Styles) ([]string, []int, int) {
	var lines []string
	var frames []int
	sel := 0
	for _, f := range r.Frames {
		if f.Boundary != "" {
			lines = append(lines, st.Dim.Render(f.Boundary))
			frames = append(frames, -1)
		}
		mark := " "
		if f.Index == r.Selected {
			mark, sel = "▸", len(lines)
		}
		l := fmt.Sprintf("%s#%-2d %#x", mark, f.Index, uint64(f.PC))
		if f.Symbol != "" {
			l += fmt.Sprintf(" %s+%#x", f.Symbol, uint64(f.Offset))
		}
		switch {
		case f.Source != "":
			l += " " + st.Dim.Render(f.Source)
		case f.Module != "":
			l += " " + st.Dim.Render(filepath.Base(f.Module))
		}
		lines = append(lines, l)
		frames = append(frames, f.Index)
	}
	if r.Truncated {
		lines = append(lines, st.Dim.Render(fmt.Sprintf("(more frames: bt stops at %d)", debugger.MaxBacktrace)))
		frames = append(frames, -1)
	}
	return lines, frames, sel
}

// renderLocals shows the selected frame's arguments and locals (gdb's
// info args and info locals) and the display expressions.
func renderLocals(args, locals execResult, displays *debugger.DisplayResult, w int, st Styles) []string {
	var lines []string
	section := func(name string, r execResult) {
		if r.err != nil {
			lines = append(lines, st.Dim.Render(name+": ")+st.Error.Render(r.err.Error()))
			return
		}
		v, ok := r.result.(*debugger.VarsResult)
		if !ok {
			return
		}
		if len(v.Vars) == 0 {
			lines = append(lines, st.Dim.Render(name+": none"))
			return
		}
		lines = append(lines, st.Dim.Render(name+":"))
		for _, x := range v.Vars {
			lines = append(lines, fmt.Sprintf(" %s = %s", x.Name, x.Value))
		}
	}
	section("arguments", args)
	if locals.err != nil && args.err != nil && locals.err.Error() == args.err.Error() {
		// One reason for both (no debug information here, a host frame).
		lines = renderError(args.err, w, st)
	} else {
		section("locals", locals)
	}
	if displays != nil && len(displays.Displays) > 0 {
		lines = append(lines, st.Dim.Render("displays:"))
		for _, l := range renderText(displays.Text()) {
			lines = append(lines, " "+l)
		}
	}
	return lines
}

// renderEnclaves shows each enclave and its TCS; the TCS of the stop is
// marked ▸.
func renderEnclaves(r *debugger.EnclavesResult, stopTCS uint64, st Styles) []string {
	if len(r.Enclaves) == 0 {
		return []string{st.Dim.Render("no enclaves")}
	}
	var lines []string
	for _, e := range r.Enclaves {
		l := fmt.Sprintf("enclave %#x size %#x %s", uint64(e.Base), uint64(e.Size), e.AttrNames)
		if e.Image != "" {
			l += " " + st.Dim.Render(filepath.Base(e.Image))
		}
		if !e.Initialized {
			l += " " + st.Dim.Render("(not initialized)")
		}
		lines = append(lines, l)
		for _, t := range e.TCS {
			mark := " "
			if uint64(t.Addr) == stopTCS {
				mark = "▸"
			}
			if t.Error != "" {
				lines = append(lines, fmt.Sprintf(" %s TCS %d %#x: %s", mark, t.Index, uint64(t.Addr), st.Error.Render(t.Error)))
				continue
			}
			state := "idle"
			if t.State != 0 {
				state = "busy"
			}
			l := fmt.Sprintf(" %s TCS %d %#x %s CSSA %d/NSSA %d", mark, t.Index, uint64(t.Addr), state, t.CSSA, t.NSSA)
			if t.Thread != 0 {
				l += fmt.Sprintf(" · thread %d inside", t.Thread)
			}
			lines = append(lines, l)
		}
	}
	return lines
}

// osSeen is what the OS learned of a production enclave's AEX: the page
// of a #PF, the error code of a #PF or #GP.
func osSeen(ev target.Event) string {
	var parts []string
	if ev.Valid && ev.Vector == sgx.VectorPF {
		parts = append(parts, fmt.Sprintf("page %#x", ev.MAddr))
	}
	if ev.Valid && (ev.Vector == sgx.VectorPF || ev.Vector == sgx.VectorGP) {
		parts = append(parts, fmt.Sprintf("errcd %#x", ev.ErrCd))
	}
	if len(parts) == 0 {
		return "the vector only"
	}
	return strings.Join(parts, " · ")
}

// renderEvents shows the timeline, one event a line, AEXs highlighted.
func renderEvents(evs []target.Event, st Styles) []string {
	lines := make([]string, 0, len(evs))
	for _, ev := range evs {
		lines = append(lines, renderEvent(ev, st))
	}
	return lines
}

// renderEvent is one line of the timeline (never empty).
func renderEvent(ev target.Event, st Styles) string {
	l := strings.TrimRight(ev.String(), " ")
	switch ev.Kind {
	case target.EvAEX, target.EvENCLUFault:
		l = st.Vector.Render(l)
	case target.EvPagesAdded:
		l = st.Dim.Render(l)
	}
	if l == "" {
		l = string(ev.Kind)
	}
	return l
}

// renderText splits a result's text into lines.
func renderText(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// renderError wraps an error's text to the pane's width.
func renderError(err error, w int, st Styles) []string {
	var lines []string
	for _, l := range strings.Split(ansi.Wordwrap(err.Error(), max(10, w), " "), "\n") {
		lines = append(lines, st.Error.Render(l))
	}
	return lines
}

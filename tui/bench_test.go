package tui

import (
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// benchSession answers the panes' commands with fixed results.
type benchSession struct{ results map[string]debugger.Result }

func (b *benchSession) Wait() (debugger.Stopped, error) { select {} }
func (b *benchSession) Exec(line string) (debugger.Result, error) {
	if r, ok := b.results[line]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("no result for %q", line)
}
func (b *benchSession) IsStopped() bool { return true }

// benchModel is a 200×50 UI at an AEX stop whose TCS has 64 SSA frames
// in use, with a 64-frame backtrace and 10 000 events in the timeline.
func benchModel(tb testing.TB) *Model {
	const tcs, base = 0x7f0000000000, 0x7f0000000000
	ssa := &debugger.SSAResult{TCS: tcs, CSSA: 64, NSSA: 65}
	bt := &debugger.BacktraceResult{}
	regs := &debugger.RegsResult{TCS: tcs, Frame: 63}
	for i := range 64 {
		m, e := debugger.Hex(0x10000+i), debugger.Hex(4)
		ssa.Frames = append(ssa.Frames, debugger.FrameView{Index: i, Addr: debugger.Hex(base + 0x10000 + 0x1000*i), Vector: 14, VectorName: "#PF",
			ExitType: "hardware", Valid: true, MAddr: &m, ErrCd: &e, ErrWords: "page not present, read access, user mode",
			RIP: debugger.Hex(base + 0x13120), Symbol: "fault_read_untrusted"})
		bt.Frames = append(bt.Frames, debugger.BTFrame{Index: i, PC: debugger.Hex(base + 0x13120 + 8*i), Symbol: "recurse", Offset: debugger.Hex(8 * i), Source: "samples/stackoverflow.c:12"})
	}
	for _, n := range []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags", "fsbase", "gsbase"} {
		regs.Rows = append(regs.Rows, debugger.RegRow{Name: n, Enclave: 0x7f0000009f28, Host: 3, Expected: 3})
	}
	dis := &debugger.DisasResult{}
	for i := range 11 {
		dis.Lines = append(dis.Lines, debugger.DisasLine{Addr: debugger.Hex(base + 0x13120 + 4*i), Bytes: "48 8b 07", Text: "mov (%rdi),%rax", Symbol: "fault_read_untrusted", Source: "samples/pf_untrusted.c:11", Current: i == 3})
	}
	mem := &debugger.MemoryResult{Addr: base + 0x9f28, Format: "x", Size: 8}
	for i := range 8 {
		mem.Values = append(mem.Values, debugger.Hex(i))
	}
	evs := make([]target.Event, 0, 10000)
	for i := range 10000 {
		ev := target.Event{Kind: target.EvEENTER, Tid: 1000, TCS: tcs, CSSA: i % 64}
		if i%2 == 1 {
			ev = target.Event{Kind: target.EvAEX, Tid: 1000, Enclave: base, TCS: tcs, SSA: i % 64, CSSA: i%64 + 1, Vector: sgx.VectorPF, ExitType: sgx.ExitHardware, Valid: true, MAddr: 0x10000, ErrCd: 4, RIP: base + 0x13120}
		}
		evs = append(evs, ev)
	}
	enc := &debugger.EnclavesResult{Enclaves: []debugger.EnclaveView{{Base: base, Size: 0x100000, AttrNames: "INIT+DEBUG+MODE64BIT", Initialized: true,
		TCS: []debugger.TCSView{{Index: 0, Addr: tcs, CSSA: 64, NSSA: 65}}}}}
	s := &benchSession{results: map[string]debugger.Result{"info enclaves": enc, "ssa": ssa, "regs": regs, "disas": dis, "bt": bt,
		"x/8xg ssa.rsp": mem, "events": &debugger.EventsResult{Events: evs}}}
	m := New(Config{Session: s, Title: "bench"})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	stop := evs[len(evs)-1]
	m.Update(stopMsg{stopped: debugger.Stopped{Event: stop}})
	m.Update(refreshCmd(s, m.gen, []paneCommand{{paneEnclaves, "info enclaves"}, {paneSSA, "ssa"}, {paneRegs, "regs"}, {paneDisas, "disas"},
		{paneBT, "bt"}, {paneMemory, "x/8xg ssa.rsp"}, {paneTimeline, "events"}})())
	if m.state != stateStopped || len(m.timeline) != 10000 {
		tb.Fatalf("bench model: state %v, %d events", m.state, len(m.timeline))
	}
	return m
}

// BenchmarkKeyToFrame is one keypress to the rendered frame at 200×50:
// Update with the key, then View, for the keys that move through the
// screen (scroll, focus, zoom) and for one batch of new timeline events.
func BenchmarkKeyToFrame(b *testing.B) {
	for _, c := range []struct {
		name string
		msg  func(i int) tea.Msg
	}{
		{"scroll", func(i int) tea.Msg {
			if i%2 == 0 {
				return keyMsg("down")
			}
			return keyMsg("up")
		}},
		{"focus", func(int) tea.Msg { return keyMsg("tab") }},
		{"zoom", func(int) tea.Msg { return keyMsg("z") }},
		{"event", func(i int) tea.Msg {
			return eventsMsg{first: 10000 + i, items: []target.Event{{Kind: target.EvEEXIT, Tid: 1000, TCS: 0x7f0000000000}}}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := benchModel(b)
			var n int
			for i := 0; b.Loop(); i++ {
				m.Update(c.msg(i))
				n += len(m.View().Content)
			}
			if n == 0 {
				b.Fatal("empty frames")
			}
		})
	}
}

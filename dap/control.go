package dap

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	godap "github.com/google/go-dap"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
	"github.com/sgxdbg/sgxdbg/ssa"
)

// resume runs a command that lets the host go (continue, next, step,
// finish, stepi, nexti) on a thread, answers, and awaits the next stop.
func (sv *Server) resume(req *godap.Request, cmd string, tid int) error {
	if err := sv.atStop(); err != nil {
		return err
	}
	if cmd != "continue" {
		if err := sv.selectFrame(tid, 0); err != nil {
			return err
		}
	}
	if _, err := sv.s.Exec(cmd); err != nil {
		return err
	}
	switch cmd {
	case "continue":
		sv.send(&godap.ContinueResponse{Response: response(req), Body: godap.ContinueResponseBody{AllThreadsContinued: true}})
	case "next", "nexti":
		sv.send(&godap.NextResponse{Response: response(req)})
	case "step", "stepi":
		sv.send(&godap.StepInResponse{Response: response(req)})
	default:
		sv.send(&godap.StepOutResponse{Response: response(req)})
	}
	sv.wait()
	return nil
}

// pause interrupts the running host: every thread stops, a thread inside
// an enclave with the AEX an interrupt causes; the stop is reported with
// reason pause.
func (sv *Server) pause(r *godap.PauseRequest) error {
	if sv.s == nil {
		return errNoSession
	}
	if !sv.running {
		return errors.New("pause: the host is not running")
	}
	wr, err := sv.interrupt()
	if err != nil {
		return fmt.Errorf("pause: %w", err)
	}
	sv.send(&godap.PauseResponse{Response: response(&r.Request)})
	if wr != nil {
		sv.stopped(*wr) // it stopped by itself meanwhile
	}
	return nil
}

// interrupt interrupts the Wait in progress. The Wait's goroutine may not
// have begun to wait yet (the session then says it is not running): it
// tries again until the interrupt is taken, or returns the Wait's result
// when the host stopped or ended by itself meanwhile.
func (sv *Server) interrupt() (*waitResult, error) {
	for {
		err := sv.s.Interrupt()
		if err == nil {
			return nil, nil
		}
		if !errors.Is(err, debugger.ErrNotRunning) {
			return nil, err
		}
		select {
		case wr := <-sv.stops:
			return &wr, nil
		case <-time.After(time.Millisecond):
		}
	}
}

// disconnect ends the session: the launched host is killed (sgxdbg cannot
// let a host go on without it: its enclaves run on the emulator).
func (sv *Server) disconnect(r *godap.DisconnectRequest) {
	if sv.s != nil {
		_ = sv.s.Kill()
		if sv.running {
			wr := <-sv.stops
			sv.running = false
			if wr.err == nil && wr.st.Exited {
				sv.end(wr.st.Status)
			}
		}
		if st, err := sv.s.Wait(); err == nil && st.Exited {
			sv.end(st.Status)
		}
	}
	sv.send(&godap.DisconnectResponse{Response: response(&r.Request)})
}

// terminate kills the host; its end is reported by exited and terminated.
func (sv *Server) terminate(r *godap.TerminateRequest) error {
	if sv.s == nil {
		return errNoSession
	}
	if err := sv.s.Kill(); err != nil {
		return fmt.Errorf("terminate: %w", err)
	}
	sv.send(&godap.TerminateResponse{Response: response(&r.Request)})
	if !sv.running {
		sv.wait()
	}
	return nil
}

// address reads a memory reference ("0x7f…") plus an offset.
func address(ref string, off int) (uint64, error) {
	a, err := strconv.ParseUint(strings.TrimSpace(ref), 0, 64)
	if err != nil {
		return 0, fmt.Errorf("memory reference %q: not an address", ref)
	}
	return a + uint64(int64(off)), nil
}

// maxDisassemble bounds one disassemble request (as disas bounds its
// count).
const maxDisassemble = 1000

// disassemble decodes enclave code from an address (disas ADDR N). Only
// instructions at or after the address: x86 cannot be decoded backwards
// reliably, so a negative instructionOffset is refused.
func (sv *Server) disassemble(r *godap.DisassembleRequest) error {
	if err := sv.atStop(); err != nil {
		return err
	}
	a := r.Arguments
	if a.InstructionOffset < 0 {
		return errors.New("disassemble: a negative instructionOffset is not supported (x86 code does not decode backwards)")
	}
	if a.InstructionCount < 1 || a.InstructionCount > maxDisassemble {
		return fmt.Errorf("disassemble: instructionCount %d out of range (1..%d)", a.InstructionCount, maxDisassemble)
	}
	addr, err := address(a.MemoryReference, a.Offset)
	if err != nil {
		return err
	}
	res, err := sv.s.Exec(fmt.Sprintf("disas %#x %d", addr, a.InstructionOffset+a.InstructionCount))
	if err != nil {
		return err
	}
	dr, ok := res.(*debugger.DisasResult)
	if !ok {
		return fmt.Errorf("disas: unexpected result %T", res)
	}
	lines := dr.Lines[min(a.InstructionOffset, len(dr.Lines)):]
	resp := &godap.DisassembleResponse{Response: response(&r.Request)}
	resp.Body.Instructions = []godap.DisassembledInstruction{}
	for _, l := range lines {
		in := godap.DisassembledInstruction{Address: l.Addr.String(), InstructionBytes: l.Bytes, Instruction: l.Text, Symbol: l.Symbol}
		if file, line, ok := splitSource(l.Source); ok {
			in.Location, in.Line = &godap.Source{Name: file}, line
		}
		resp.Body.Instructions = append(resp.Body.Instructions, in)
	}
	sv.send(resp)
	return nil
}

// maxReadMemory bounds one readMemory request.
const maxReadMemory = 64 << 10

// readMemory reads enclave memory through EDBGRD (x/NxB).
func (sv *Server) readMemory(r *godap.ReadMemoryRequest) error {
	if err := sv.atStop(); err != nil {
		return err
	}
	a := r.Arguments
	if a.Count < 0 || a.Count > maxReadMemory {
		return fmt.Errorf("readMemory: count %d out of range (0..%d)", a.Count, maxReadMemory)
	}
	addr, err := address(a.MemoryReference, a.Offset)
	if err != nil {
		return err
	}
	resp := &godap.ReadMemoryResponse{Response: response(&r.Request)}
	resp.Body.Address = fmt.Sprintf("%#x", addr)
	var data []byte
	for len(data) < a.Count {
		n := min(a.Count-len(data), 4096)
		res, err := sv.s.Exec(fmt.Sprintf("x/%dxb %#x", n, addr+uint64(len(data))))
		if err != nil {
			if len(data) == 0 {
				return err
			}
			resp.Body.UnreadableBytes = a.Count - len(data)
			break
		}
		mr, ok := res.(*debugger.MemoryResult)
		if !ok {
			return fmt.Errorf("x: unexpected result %T", res)
		}
		for _, v := range mr.Values {
			data = append(data, byte(v))
		}
		if len(mr.Values) < n {
			resp.Body.UnreadableBytes = a.Count - len(data)
			break
		}
	}
	resp.Body.Data = base64.StdEncoding.EncodeToString(data)
	sv.send(resp)
	return nil
}

// writeMemory writes enclave memory through EDBGWR (write ADDR HEX).
func (sv *Server) writeMemory(r *godap.WriteMemoryRequest) error {
	if err := sv.atStop(); err != nil {
		return err
	}
	a := r.Arguments
	b, err := base64.StdEncoding.DecodeString(a.Data)
	if err != nil {
		return fmt.Errorf("writeMemory: data: %w", err)
	}
	if len(b) == 0 {
		return errors.New("writeMemory: no data")
	}
	addr, err := address(a.MemoryReference, a.Offset)
	if err != nil {
		return err
	}
	if _, err := sv.s.Exec(fmt.Sprintf("write %#x %x", addr, b)); err != nil {
		return err
	}
	sv.send(&godap.WriteMemoryResponse{Response: response(&r.Request), Body: godap.WriteMemoryResponseBody{BytesWritten: len(b)}})
	return nil
}

// exceptionInfo describes the AEX the thread stopped at: the vector, the
// exit type, MADDR and ERRCD in words, the faulting instruction and its
// source line (from the SSA frame the AEX wrote).
func (sv *Server) exceptionInfo(r *godap.ExceptionInfoRequest) error {
	if err := sv.atStop(); err != nil {
		return err
	}
	ev := sv.stop.Event
	if r.Arguments.ThreadId != 0 && r.Arguments.ThreadId != sv.stopTid {
		return fmt.Errorf("exceptionInfo: thread %d did not stop at an exception (thread %d did)", r.Arguments.ThreadId, sv.stopTid)
	}
	if ev.Kind != target.EvAEX {
		return fmt.Errorf("exceptionInfo: the thread stopped at %s, not at an AEX", ev.Kind)
	}
	body := godap.ExceptionInfoResponseBody{BreakMode: "always"}
	if !ev.Valid {
		body.ExceptionId = "interrupt"
		body.Description = "AEX for an interrupt (EXITINFO.VALID = 0)"
	} else {
		body.ExceptionId = ev.VectorName()
		body.Description = aexWords(ev)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "AEX on TCS %#x into SSA frame %d (CSSA now %d)\n", ev.TCS, ev.SSA, ev.CSSA)
	if ev.Valid {
		fmt.Fprintf(&b, "vector     %s (%s)\nexit type  %s\n", ev.VectorName(), ev.Vector.Name(), ev.ExitTypeName())
		if ev.Vector == sgx.VectorPF || ev.Vector == sgx.VectorGP {
			fmt.Fprintf(&b, "MADDR      %#x\n", ev.MAddr)
			words := ""
			if ev.Vector == sgx.VectorPF {
				words = " (" + ssa.PFErrorCode(ev.ErrCd).Words() + ")"
			}
			fmt.Fprintf(&b, "ERRCD      %#x%s\n", ev.ErrCd, words)
		}
	}
	where := ""
	if res, err := sv.s.Exec(fmt.Sprintf("disas %#x 1", ev.RIP)); err == nil {
		if dr, ok := res.(*debugger.DisasResult); ok && len(dr.Lines) > 0 {
			l := dr.Lines[0]
			fmt.Fprintf(&b, "at         %s: %s", l.Addr, l.Text)
			if l.Symbol != "" {
				fmt.Fprintf(&b, " in %s", l.Symbol)
			}
			b.WriteString("\n")
			if l.Source != "" {
				fmt.Fprintf(&b, "source     %s\n", l.Source)
				where = l.Source
			}
		}
	}
	if where != "" {
		body.Description += " at " + where
	}
	body.Details = &godap.ExceptionDetails{Message: strings.TrimRight(b.String(), "\n"), TypeName: "AEX " + body.ExceptionId}
	if bt, err := sv.backtrace(sv.stopTid); err == nil {
		body.Details.StackTrace = bt.Text()
	}
	sv.send(&godap.ExceptionInfoResponse{Response: response(&r.Request), Body: body})
	return nil
}

// pfWords describes a #PF: "#PF reading 0x10000: page not present".
func pfWords(maddr uint64, errcd uint32) string {
	c := ssa.PFErrorCode(errcd)
	access := "reading"
	switch {
	case c&ssa.PFInstruction != 0:
		access = "fetching"
	case c&ssa.PFWrite != 0:
		access = "writing"
	}
	cause := "page not present"
	if c&ssa.PFPresent != 0 {
		cause = "protection violation"
	}
	if c&ssa.PFSGX != 0 {
		cause += " (EPCM access check)"
	}
	return fmt.Sprintf("#PF %s %#x: %s", access, maddr, cause)
}

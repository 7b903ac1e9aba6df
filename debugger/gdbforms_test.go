package debugger_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
)

// memView is the part of an x result the gdb-form tests compare.
type memView struct {
	Addr   string   `json:"addr"`
	Format string   `json:"format"`
	Unit   int      `json:"unit"`
	Values []string `json:"values"`
}

func (r *run) mem(cmd string) string {
	r.t.Helper()
	var m memView
	r.result(cmd, &m)
	return fmt.Sprintf("%s %s %d %d", m.Addr, m.Format, m.Unit, len(m.Values))
}

// TestExamineForms: x without /FMT takes the last format and unit with a
// count of 1 (x/1xg before any x); x without ADDR goes on after the last
// unit shown, with the last count; $REG is ssa.REG (de ecall 0, #DE).
func TestExamineForms(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "de", "0", "42", "0")
	r.stop()
	var regs struct {
		Rows []struct{ Name, Enclave string } `json:"registers"`
	}
	r.result("regs", &regs)
	var rsp uint64
	for _, row := range regs.Rows {
		if row.Name == "rsp" {
			fmt.Sscanf(row.Enclave, "0x%x", &rsp)
		}
	}
	if rsp == 0 {
		t.Fatal("no rsp in regs")
	}
	for _, c := range []struct{ cmd, want string }{
		{"x ssa.rsp", fmt.Sprintf("%#x x 8 1", rsp)}, // x/1xg
		{"x $rsp", fmt.Sprintf("%#x x 8 1", rsp)},
		{"x/3xw ssa.rsp", fmt.Sprintf("%#x x 4 3", rsp)},
		{"x", fmt.Sprintf("%#x x 4 3", rsp+12)},      // on after the 3 words, 3 again
		{"x $rsp", fmt.Sprintf("%#x x 4 1", rsp)},    // last format, count 1
		{"x/2", fmt.Sprintf("%#x x 4 2", rsp+4)},     // on, 2 words
		{"x/d $rsp", fmt.Sprintf("%#x d 4 1", rsp)},  // unit kept
		{"x/2g $rsp", fmt.Sprintf("%#x d 8 2", rsp)}, // format kept
		{"x/xb", fmt.Sprintf("%#x x 1 1", rsp+16)},
	} {
		check(t, c.cmd, r.mem(c.cmd), c.want)
	}
	var s memView
	r.result("x/s $rsp", &s)
	check(t, "x/s format kept", fmt.Sprint(s.Format, " ", s.Addr), fmt.Sprintf("s %#x", rsp))
}

// TestInfoRegistersAndSetReg: i r is the regs view; set $REG = V (and
// $REG=V) writes the newest SSA frame like set ssa.REG V.
func TestInfoRegistersAndSetReg(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "de", "0", "42", "0")
	r.stop()
	regs := r.exec("regs")
	check(t, "i r", r.exec("i r"), regs)
	check(t, "info registers", r.exec("info registers"), regs)
	r.exec("set $rdx = 0x55")
	r.exec("set $R9=0x66")
	r.exec("set ssa.rsi 0x77")
	var got struct {
		Rows []struct{ Name, Enclave string } `json:"registers"`
	}
	r.result("i r", &got)
	vals := map[string]string{}
	for _, row := range got.Rows {
		vals[row.Name] = row.Enclave
	}
	check(t, "set values", fmt.Sprint(vals["rdx"], " ", vals["r9"], " ", vals["rsi"]), "0x55 0x66 0x77")
}

// TestCurrentMarker: only the instruction at the SSA RIP is current, in
// disas and x/i, wherever they start.
func TestCurrentMarker(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "de", "0", "42", "0")
	r.stop()
	rip := r.sym("fault_divide") + 8
	type lines struct {
		Lines []struct {
			Addr    string `json:"addr"`
			Current bool   `json:"current"`
		} `json:"lines"`
		Insns []struct {
			Addr    string `json:"addr"`
			Current bool   `json:"current"`
		} `json:"instructions"`
	}
	current := func(cmd string) string {
		var l lines
		if err := json.Unmarshal([]byte(r.exec(cmd)), &l); err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, x := range append(l.Lines, l.Insns...) {
			if x.Current {
				out += x.Addr + " "
			}
		}
		return out
	}
	for _, c := range []struct{ cmd, want string }{
		{"disas", hx(rip) + " "},
		{"disas fault_divide 2", ""},
		{fmt.Sprintf("disas %#x 2", rip+3), hx(rip) + " "}, // disas shows 3 instructions before ADDR
		{"x/2i fault_divide", ""},
		{"x/2i $rip", hx(rip) + " "},
		{"disas fault_divide 8", hx(rip) + " "},
	} {
		check(t, c.cmd, current(c.cmd), c.want)
	}
}

// TestStackOverflowTruths: the stackoverflow sample's #PF at base+0x1ff8
// is in the GUARD region below TCS 0's stack (its region notes): the SSA
// view calls it a stack overflow, and bt says it stops at its limit. The
// pf_untrusted #PF (MADDR 0x10000, outside the enclave) is neither.
func TestStackOverflowTruths(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "stackoverflow", "0")
	r.stop()
	var v struct {
		Frames []struct {
			MAddr     string `json:"maddr"`
			Diagnosis string `json:"diagnosis"`
		} `json:"frames"`
	}
	r.result("ssa", &v)
	check(t, "frames", fmt.Sprint(len(v.Frames)), "1")
	check(t, "maddr", v.Frames[0].MAddr, hx(r.base()+0x1ff8))
	check(t, "diagnosis", v.Frames[0].Diagnosis,
		"stack overflow: MADDR is in the guard page GUARD [0x1000, 0x2000) TCS 0 below the stack STACK [0x2000, 0xa000) TCS 0 unmeasured")
	var bt struct {
		Frames []struct {
			Host bool `json:"host"`
		} `json:"frames"`
		Truncated bool `json:"truncated"`
	}
	r.result("bt", &bt)
	check(t, "bt", fmt.Sprint(len(bt.Frames), " ", bt.Truncated), fmt.Sprint(debugger.MaxBacktrace, " true"))
	res, err := r.s.Exec("bt")
	if err != nil {
		t.Fatal(err)
	}
	text := res.Text()
	check(t, "bt text end", text[len(text)-len("(more frames: bt stops at 64)"):], "(more frames: bt stops at 64)")

	p := start(t, debugger.Policy{}, nil, "pf_untrusted", "0", "0x10000")
	p.stop()
	v.Frames = nil
	p.result("ssa", &v)
	check(t, "pf_untrusted diagnosis", v.Frames[0].Diagnosis, "")
	bt.Frames, bt.Truncated = nil, false
	p.result("bt", &bt)
	enclaveFrames := 0
	for _, f := range bt.Frames {
		if !f.Host {
			enclaveFrames++
		}
	}
	check(t, "pf_untrusted bt", fmt.Sprint(enclaveFrames, " ", bt.Truncated), "4 false")
}

package emu

import (
	"bytes"
	"debug/elf"
	_ "embed"
	"encoding/binary"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/sgx"
)

//go:generate sh vdso/gen.sh

// sgxVDSO is the synthetic vDSO (vdso/sgx_vdso.S): one page exporting
// __vdso_sgx_enter_enclave@LINUX_2.6. The kernel here has no SGX vDSO; the
// emulator maps this one into every host and points AT_SYSINFO_EHDR at it,
// so hosts that prefer the vDSO (as the Intel SDK, Open Enclave and
// Gramine do) take that path. It also exports the kernel vDSO's
// clock_gettime, gettimeofday, time, getcpu and clock_getres, which jump to
// the real vDSO's functions (it stays mapped), so the C library keeps its
// fast paths.
//
//go:embed vdso/sgx_vdso.so
var sgxVDSO []byte

// vdsoImage is the flat memory image of sgxVDSO and the offsets of its
// ENCLU and of its exception fixup.
type vdsoImage struct {
	mem          []byte
	enclu, fixup uint64
	real         uint64 // the table of the real vDSO's functions (vdsoForwards)
}

// vdsoForwards are the functions the synthetic vDSO forwards to the real
// one, in the order of its sgx_vdso_real table.
var vdsoForwards = []string{"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time", "__vdso_getcpu", "__vdso_clock_getres"}

func parseVDSO(b []byte) (vdsoImage, error) {
	var v vdsoImage
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return v, fmt.Errorf("synthetic vDSO: %w", err)
	}
	defer f.Close()
	var loads []*elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			loads = append(loads, p)
		}
	}
	if len(loads) != 1 || loads[0].Off != 0 || loads[0].Vaddr != 0 || len(b) > sgx.PageSize {
		return v, fmt.Errorf("synthetic vDSO: want one flat PT_LOAD and a file of at most a page")
	}
	// The whole file is the image, as the kernel maps its vDSO: runtimes
	// find __vdso_sgx_enter_enclave through the section headers (the Intel
	// SDK's uRTS, psw/urts/linux/sig_handler.cpp get_vdso_sym, walks
	// e_shoff for .dynsym and .dynstr), which lie past the PT_LOAD's bytes.
	v.mem = b
	syms, err := f.Symbols()
	if err != nil {
		return v, fmt.Errorf("synthetic vDSO: %w", err)
	}
	for _, s := range syms {
		switch s.Name {
		case "sgx_vdso_enclu":
			v.enclu = s.Value
		case "sgx_vdso_fixup":
			v.fixup = s.Value
		case "sgx_vdso_real":
			v.real = s.Value
		}
	}
	if v.enclu == 0 || v.fixup == 0 || v.real == 0 || v.real+8*uint64(len(vdsoForwards)) > uint64(len(v.mem)) {
		return v, fmt.Errorf("synthetic vDSO: no sgx_vdso_enclu/sgx_vdso_fixup/sgx_vdso_real symbols")
	}
	return v, nil
}

const atSysinfoEhdr = 33 // AT_SYSINFO_EHDR

// mapVDSO maps the synthetic vDSO into a process stopped right after exec
// and points its AT_SYSINFO_EHDR at it. A process whose auxiliary vector
// has no AT_SYSINFO_EHDR (vDSO disabled) is left as it is.
func (em *Emulator) mapVDSO(pr *process, tid int) error {
	v, err := parseVDSO(sgxVDSO)
	if err != nil {
		return err
	}
	r, err := ptrace.GetRegs(tid)
	if err != nil {
		return err
	}
	slot, err := auxvSlot(pr.mem, r.Rsp, atSysinfoEhdr)
	if err != nil || slot == 0 {
		return err
	}
	var old [8]byte
	if _, err := pr.mem.ReadMemory(old[:], slot); err != nil {
		return fmt.Errorf("read AT_SYSINFO_EHDR: %w", err)
	}
	image := append([]byte(nil), v.mem...)
	for i, addr := range realVDSOFunctions(pr, binary.LittleEndian.Uint64(old[:])) {
		binary.LittleEndian.PutUint64(image[v.real+8*uint64(i):], addr)
	}
	site := pr.scratch + ptrace.ScratchSyscall
	base, err := pr.mem.InjectSyscall(tid, site, unix.SYS_MMAP, 0, sgx.PageSize,
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uint64(0), 0)
	if err != nil {
		return fmt.Errorf("map the synthetic vDSO: %w", err)
	}
	if _, err := pr.mem.WriteMemory(image, base); err != nil {
		return err
	}
	if _, err := pr.mem.InjectSyscall(tid, site, unix.SYS_MPROTECT, base, sgx.PageSize, unix.PROT_READ|unix.PROT_EXEC); err != nil {
		return fmt.Errorf("protect the synthetic vDSO: %w", err)
	}
	var w [8]byte
	binary.LittleEndian.PutUint64(w[:], base)
	if _, err := pr.mem.WriteMemory(w[:], slot); err != nil {
		return fmt.Errorf("point AT_SYSINFO_EHDR at the synthetic vDSO: %w", err)
	}
	pr.vdsoEnclu, pr.vdsoFixup = base+v.enclu, base+v.fixup
	return nil
}

// realVDSOFunctions returns the addresses of vdsoForwards in the kernel's
// vDSO mapped at ehdr in pr (0 for each one it lacks, or for all when it
// cannot be read): its dynamic symbols, relocated from the image's first
// PT_LOAD to where it is mapped.
func realVDSOFunctions(pr *process, ehdr uint64) []uint64 {
	out := make([]uint64, len(vdsoForwards))
	size := vdsoMapSize(pr.pid, ehdr)
	if ehdr == 0 || size == 0 {
		return out
	}
	buf := make([]byte, size)
	if n, err := pr.mem.ReadMemory(buf, ehdr); err != nil || n != len(buf) {
		return out
	}
	f, err := elf.NewFile(bytes.NewReader(buf))
	if err != nil {
		return out
	}
	defer f.Close()
	var vaddr uint64
	found := false
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			vaddr, found = p.Vaddr, true
			break
		}
	}
	syms, err := f.DynamicSymbols()
	if err != nil || !found {
		return out
	}
	for _, s := range syms {
		for i, name := range vdsoForwards {
			if s.Name == name && elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value >= vaddr && s.Value-vaddr < size {
				out[i] = ehdr + s.Value - vaddr
			}
		}
	}
	return out
}

// vdsoMapSize is the length of the [vdso] mapping that starts at ehdr, from
// /proc/PID/maps, or 0.
func vdsoMapSize(pid int, ehdr uint64) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasSuffix(line, "[vdso]") {
			continue
		}
		var start, end uint64
		if _, err := fmt.Sscanf(line, "%x-%x", &start, &end); err == nil && start == ehdr && end > start && end-start <= 1<<20 {
			return end - start
		}
	}
	return 0
}

// auxvSlot walks the initial stack at rsp (argc, argv, envp, auxv) and
// returns the address of the value of auxv entry typ, or 0.
func auxvSlot(mem *ptrace.Process, rsp uint64, typ uint64) (uint64, error) {
	word := func(addr uint64) (uint64, error) {
		var b [8]byte
		if _, err := mem.ReadMemory(b[:], addr); err != nil {
			return 0, fmt.Errorf("read the initial stack: %w", err)
		}
		return binary.LittleEndian.Uint64(b[:]), nil
	}
	argc, err := word(rsp)
	if err != nil {
		return 0, err
	}
	p := rsp + 8 + (argc+1)*8
	for i := 0; ; i++ {
		v, err := word(p)
		if err != nil {
			return 0, err
		}
		p += 8
		if v == 0 {
			break
		}
		if i > 1<<20 {
			return 0, fmt.Errorf("initial stack: no end of the environment")
		}
	}
	for i := 0; i < 256; i++ {
		t, err := word(p)
		if err != nil || t == 0 {
			return 0, err
		}
		if t == typ {
			return p + 8, nil
		}
		p += 16
	}
	return 0, nil
}

// fixup is where the kernel sends an exception taken at the vDSO's ENCLU:
// to its handler, with RDI = vector, RSI = error code, RDX = address.
type fixup struct {
	vector uint8
	errcd  uint64
	addr   uint64
}

// fixupFor returns the fixup for an exception at rip, when rip is the
// synthetic vDSO's ENCLU and the vector is one the kernel fixes up (#DB
// and #BP never are: they stay signals).
func (pr *process) fixupFor(rip uint64, v sgx.Vector, errcd, addr uint64) *fixup {
	if pr.vdsoEnclu == 0 || rip != pr.vdsoEnclu || v == sgx.VectorDB || v == sgx.VectorBP {
		return nil
	}
	return &fixup{vector: uint8(v), errcd: errcd, addr: addr}
}

// applyFixup redirects a thread stopped at the vDSO's ENCLU to the fixup.
func (pr *process) applyFixup(tid int, f *fixup) error {
	r, err := ptrace.GetRegs(tid)
	if err != nil {
		return err
	}
	r.Rip, r.Rdi, r.Rsi, r.Rdx = pr.vdsoFixup, uint64(f.vector), f.errcd, f.addr
	r.Orig_rax = ^uint64(0)
	return ptrace.SetRegs(tid, &r)
}

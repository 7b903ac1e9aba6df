package debugger

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// maxVDSOImage bounds how much of the host's memory is read as its vDSO
// image (the kernel's is two pages, the emulator's synthetic one one).
const maxVDSOImage = 64 << 10

// atSysinfoEhdr is the auxiliary vector's AT_SYSINFO_EHDR.
const atSysinfoEhdr = 33

// vdsoBase is the address of the host's vDSO: the AT_SYSINFO_EHDR of the
// auxiliary vector on its initial stack (argc, argv, envp, auxv at
// /proc/PID/stat's startstack). That is the vector the process reads; the
// emulator points it at its synthetic vDSO, an anonymous mapping that
// /proc/PID/maps does not name, while /proc/PID/auxv keeps the kernel's
// copy. The kernel's copy is the answer when the stack cannot be read.
func vdsoBase(pid int, read func([]byte, uint64) (int, error)) (uint64, bool) {
	if v, ok := stackAuxv(pid, read); ok {
		return v, true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/auxv")
	if err != nil {
		return 0, false
	}
	for i := 0; i+16 <= len(b); i += 16 {
		switch binary.LittleEndian.Uint64(b[i:]) {
		case 0: // AT_NULL
			return 0, false
		case atSysinfoEhdr:
			v := binary.LittleEndian.Uint64(b[i+8:])
			return v, v != 0
		}
	}
	return 0, false
}

// stackAuxv walks the initial stack for AT_SYSINFO_EHDR, bounded (the
// stack is the host's memory).
func stackAuxv(pid int, read func([]byte, uint64) (int, error)) (uint64, bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// Fields after the command (which may hold spaces) start after ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	fs := strings.Fields(string(stat[i+1:]))
	if len(fs) < 26 {
		return 0, false
	}
	sp, err := strconv.ParseUint(fs[25], 10, 64) // field 28, startstack
	if err != nil || sp == 0 {
		return 0, false
	}
	word := func(addr uint64) (uint64, bool) {
		var b [8]byte
		n, _ := read(b[:], addr)
		return binary.LittleEndian.Uint64(b[:]), n == 8
	}
	argc, ok := word(sp)
	if !ok || argc > 1<<16 {
		return 0, false
	}
	p := sp + 8*(argc+2) // past argc, argv and its NULL
	for n := 0; ; n++ {
		v, ok := word(p)
		if !ok || n > 1<<16 {
			return 0, false
		}
		p += 8
		if v == 0 {
			break
		}
	}
	for n := 0; n < 256; n++ {
		typ, ok1 := word(p)
		v, ok2 := word(p + 8)
		if !ok1 || !ok2 || typ == 0 {
			return 0, false
		}
		if typ == atSysinfoEhdr {
			return v, v != 0
		}
		p += 16
	}
	return 0, false
}

// vdsoImageSize is how many bytes from the start of an in-memory ELF image
// its section headers (and so its symbols) need, from its ELF header.
func vdsoImageSize(hdr []byte) (int, error) {
	if len(hdr) < 64 || !bytes.HasPrefix(hdr, []byte(elf.ELFMAG)) || elf.Class(hdr[elf.EI_CLASS]) != elf.ELFCLASS64 {
		return 0, fmt.Errorf("vDSO: no 64-bit ELF header")
	}
	shoff := binary.LittleEndian.Uint64(hdr[0x28:])
	shentsize := uint64(binary.LittleEndian.Uint16(hdr[0x3a:]))
	shnum := uint64(binary.LittleEndian.Uint16(hdr[0x3c:]))
	end := shoff + shentsize*shnum
	if end < shoff || end > maxVDSOImage {
		return 0, fmt.Errorf("vDSO: section headers end at %#x, past %#x", end, maxVDSOImage)
	}
	return int(end), nil
}

// vdsoSymbolAt names the function of the ELF image img (mapped from its
// first byte) that holds the address off bytes into the mapping: its
// dynamic symbol and the offset into it. img is the host's memory, so
// untrusted: bad ELF answers false.
func vdsoSymbolAt(img []byte, off uint64) (name string, symOff uint64, ok bool) {
	defer func() {
		if recover() != nil {
			name, symOff, ok = "", 0, false
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		return "", 0, false
	}
	defer f.Close()
	var bias uint64 // the link address of the mapping's first byte
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Off == 0 {
			bias = p.Vaddr
			break
		}
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		return "", 0, false
	}
	at := bias + off
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Size == 0 || at < s.Value || at-s.Value >= s.Size {
			continue
		}
		// Of aliases (clock_gettime, __vdso_clock_gettime), the name
		// hosts look up.
		if !ok || strings.HasPrefix(s.Name, "__vdso_") && !strings.HasPrefix(name, "__vdso_") {
			name, symOff, ok = s.Name, at-s.Value, true
		}
	}
	return name, symOff, ok
}

// hostVDSO is the host's vDSO as read for one backtrace: where it is and
// its image (nil when it could not be read). It is not kept longer: an
// execve maps another.
type hostVDSO struct {
	base uint64
	img  []byte
}

// readVDSO reads the host's vDSO image through read (host memory).
func readVDSO(pid int, read func([]byte, uint64) (int, error)) *hostVDSO {
	v := &hostVDSO{}
	base, ok := vdsoBase(pid, read)
	if !ok {
		return v
	}
	v.base = base
	hdr := make([]byte, 64)
	if n, _ := read(hdr, base); n != len(hdr) {
		return v
	}
	size, err := vdsoImageSize(hdr)
	if err != nil {
		return v
	}
	img := make([]byte, size)
	if n, _ := read(img, base); n == size {
		v.img = img
	}
	return v
}

// symbol names pc when it is in the vDSO.
func (v *hostVDSO) symbol(pc uint64) (string, uint64, bool) {
	if v.img == nil || pc < v.base || pc-v.base >= maxVDSOImage {
		return "", 0, false
	}
	return vdsoSymbolAt(v.img, pc-v.base)
}

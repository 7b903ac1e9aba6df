package coredump

import (
	"debug/elf"
	"encoding/binary"
)

// ELF64 header and program header sizes.
const (
	ehdrSize = 64
	phdrSize = 56
)

// The ELF constants the writer uses, from debug/elf.
const (
	elfPTLoad = elf.PT_LOAD
	elfPTNote = elf.PT_NOTE
	elfPFR    = uint32(elf.PF_R)
	elfPFW    = uint32(elf.PF_W)
	elfPFX    = uint32(elf.PF_X)
)

// putEhdr writes an ELF64 little-endian x86-64 ET_CORE header with phnum
// program headers right after it and no sections.
func putEhdr(b []byte, phnum int) {
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	b[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	b[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	b[elf.EI_OSABI] = byte(elf.ELFOSABI_NONE)
	le := binary.LittleEndian
	le.PutUint16(b[16:], uint16(elf.ET_CORE))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(b[24:], 0)        // e_entry
	le.PutUint64(b[32:], ehdrSize) // e_phoff
	le.PutUint64(b[40:], 0)        // e_shoff
	le.PutUint32(b[48:], 0)        // e_flags
	le.PutUint16(b[52:], ehdrSize)
	le.PutUint16(b[54:], phdrSize)
	le.PutUint16(b[56:], uint16(phnum))
	le.PutUint16(b[58:], 64) // e_shentsize, as the kernel writes it
	le.PutUint16(b[60:], 0)  // e_shnum
	le.PutUint16(b[62:], 0)  // e_shstrndx
}

// putPhdr writes one ELF64 program header. Core segments have p_paddr 0
// and p_filesz == p_memsz (every page is in the file).
func putPhdr(b []byte, typ, flags uint32, off, vaddr, size, align uint64) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], typ)
	le.PutUint32(b[4:], flags)
	le.PutUint64(b[8:], off)
	le.PutUint64(b[16:], vaddr)
	le.PutUint64(b[24:], 0)
	le.PutUint64(b[32:], size)
	le.PutUint64(b[40:], size)
	le.PutUint64(b[48:], align)
}

/*
 * enclave.lds.S - lays out a sample enclave image (README "Image convention").
 * Preprocessed with cpp -P -DNTCS=n -DNSSA=m; every TCS, THREAD page and note
 * is built here from layout.h constants with data commands, so the image has
 * no relocations.
 */
#include "layout.h"

OUTPUT_FORMAT(elf64-x86-64)
OUTPUT_ARCH(i386:x86-64)
ENTRY(enclave_entry)

#define PF_RW 6
#define PF_RX 5
#define PF_RO 4

PHDRS
{
	tcs PT_LOAD FLAGS(PF_RW);
	stack0 PT_LOAD FLAGS(PF_RW);
	tdata0 PT_LOAD FLAGS(PF_RW);
#if NTCS > 1
	stack1 PT_LOAD FLAGS(PF_RW);
	tdata1 PT_LOAD FLAGS(PF_RW);
#endif
#if NTCS > 2
	stack2 PT_LOAD FLAGS(PF_RW);
	tdata2 PT_LOAD FLAGS(PF_RW);
#endif
#if NTCS > 3
	stack3 PT_LOAD FLAGS(PF_RW);
	tdata3 PT_LOAD FLAGS(PF_RW);
#endif
	ropage PT_LOAD FLAGS(PF_RO);
	text PT_LOAD FLAGS(PF_RX);
	rodata PT_LOAD FLAGS(PF_RO);
	data PT_LOAD FLAGS(PF_RW);
	dynamic PT_DYNAMIC FLAGS(PF_RW);
	note PT_NOTE FLAGS(PF_RO);
	ehframe PT_GNU_EH_FRAME FLAGS(PF_RO);
}

/* A TCS page: STATE, FLAGS, OSSA, CSSA, NSSA, OENTRY, AEP, OFSBASGX,
 * OGSBASGX, FSLIMIT, GSLIMIT (ignored in 64-bit mode; all ones as in the
 * kernel selftests), reserved zeros to the end of the page. */
#define TCS_PAGE(i) \
	QUAD(0) QUAD(0) QUAD(SSA_OFF(i)) LONG(0) LONG(NSSA) QUAD(TEXT_START) \
	QUAD(0) QUAD(THREAD_OFF(i)) QUAD(THREAD_OFF(i)) \
	LONG(0xFFFFFFFF) LONG(0xFFFFFFFF) \
	. = ((i) + 1) * PAGE_SIZE;

/* The stack of TCS i: zero pages, not backed by file bytes. */
#define STACK_SECTION(i) \
	.stack##i STACK_OFF(i) (NOLOAD) : { . = STACK_SIZE; } :stack##i

/* Exception stack, THREAD page (its first words from layout.h's TD_*),
 * and SSA frames of TCS i: one RW segment. */
#define TDATA_SECTION(i) \
	.tdata##i EXC_STACK_OFF(i) : { \
		. = EXC_STACK_SIZE; \
		QUAD(THREAD_OFF(i)) QUAD(i) QUAD(STACK_OFF(i) + STACK_SIZE) \
		QUAD(EXC_STACK_OFF(i) + EXC_STACK_SIZE) QUAD(TCS_OFF(i)) \
		QUAD(SSA_OFF(i)) QUAD(NSSA) \
		. = EXC_STACK_SIZE + PAGE_SIZE + NSSA * SSA_FRAME_PAGES * PAGE_SIZE; \
	} :tdata##i

/* A 32-byte NT_SGXDBG_REGIONS record. */
#define REC(off, size, kind, flags, idx) \
	QUAD(off) QUAD(size) LONG(kind) LONG(flags) LONG(idx) LONG(0)

#define THREAD_RECORDS(i) \
	REC(SSA_OFF(i), NSSA * SSA_FRAME_PAGES * PAGE_SIZE, REGION_SSA, 0, i) \
	REC(GUARD_OFF(i), PAGE_SIZE, REGION_GUARD, 0, i) \
	REC(STACK_OFF(i), STACK_SIZE, REGION_STACK, REGION_UNMEASURED, i) \
	REC(EXC_GUARD_OFF(i), PAGE_SIZE, REGION_GUARD, 0, i) \
	REC(EXC_STACK_OFF(i), EXC_STACK_SIZE, REGION_STACK, 0, i) \
	REC(THREAD_OFF(i), PAGE_SIZE, REGION_THREAD, 0, i)

#define NREGIONS (7 * NTCS)

/* Note header: namesz 7, descsz, type, "SGXDBG\0" padded to 8. */
#define NOTE_HEADER(descsz, type) \
	LONG(7) LONG(descsz) LONG(type) LONG(0x44584753) LONG(0x00004742)

#ifndef ISVPRODID
#define ISVPRODID 0
#endif
#ifndef ISVSVN
#define ISVSVN 0
#endif

SECTIONS
{
	__enclave_base = 0;

	.tcs 0 : {
		TCS_PAGE(0)
#if NTCS > 1
		TCS_PAGE(1)
#endif
#if NTCS > 2
		TCS_PAGE(2)
#endif
#if NTCS > 3
		TCS_PAGE(3)
#endif
	} :tcs

	STACK_SECTION(0)
	TDATA_SECTION(0)
#if NTCS > 1
	STACK_SECTION(1)
	TDATA_SECTION(1)
#endif
#if NTCS > 2
	STACK_SECTION(2)
	TDATA_SECTION(2)
#endif
#if NTCS > 3
	STACK_SECTION(3)
	TDATA_SECTION(3)
#endif

	.ropage RO_PAGE_OFF : { KEEP(*(.ropage)) . = PAGE_SIZE; } :ropage

	.text TEXT_START : {
		KEEP(*(.text.entry))
		*(.text .text.*)
	} :text

	. = ALIGN(PAGE_SIZE);
	.rodata : { *(.rodata .rodata.*) } :rodata
	.note.sgxdbg : ALIGN(4) {
		NOTE_HEADER(64, NOTE_ENCLAVE)
		QUAD(ENCLAVE_SIZE) LONG(SSA_FRAME_PAGES) LONG(MISCSELECT_VALUE)
		QUAD(ATTRIBUTES_VALUE) QUAD(XFRM_VALUE) LONG(MISCMASK_VALUE)
		SHORT(ISVPRODID) SHORT(ISVSVN) QUAD(ATTRMASK_FLAGS) QUAD(ATTRMASK_XFRM)
		QUAD(0)
		NOTE_HEADER(NREGIONS * 32, NOTE_REGIONS)
		REC(TCS_OFF(0), PAGE_SIZE, REGION_TCS, 0, 0)
#if NTCS > 1
		REC(TCS_OFF(1), PAGE_SIZE, REGION_TCS, 0, 1)
#endif
#if NTCS > 2
		REC(TCS_OFF(2), PAGE_SIZE, REGION_TCS, 0, 2)
#endif
#if NTCS > 3
		REC(TCS_OFF(3), PAGE_SIZE, REGION_TCS, 0, 3)
#endif
		THREAD_RECORDS(0)
#if NTCS > 1
		THREAD_RECORDS(1)
#endif
#if NTCS > 2
		THREAD_RECORDS(2)
#endif
#if NTCS > 3
		THREAD_RECORDS(3)
#endif
	} :rodata :note
	.eh_frame_hdr : { *(.eh_frame_hdr) } :rodata :ehframe
	.eh_frame : { KEEP(*(.eh_frame)) } :rodata
	.dynsym : { *(.dynsym) } :rodata
	.dynstr : { *(.dynstr) } :rodata
	.gnu.hash : { *(.gnu.hash) } :rodata
	.hash : { *(.hash) } :rodata
	.rela.dyn : { *(.rela.*) } :rodata

	. = ALIGN(PAGE_SIZE);
	.data : { *(.data .data.*) } :data
	.dynamic : { *(.dynamic) } :data :dynamic
	.got : { *(.got) *(.got.plt) } :data
	.bss : { *(.bss .bss.*) *(COMMON) } :data
	__enclave_end = ALIGN(PAGE_SIZE);

	/DISCARD/ : {
		*(.note.gnu.*) *(.note.GNU-stack) *(.comment) *(.interp)
	}
}

ASSERT(NTCS >= 1 && NTCS <= MAX_TCS, "NTCS out of range")
ASSERT(NSSA >= 1 && NSSA <= MAX_SSA, "NSSA out of range")
ASSERT(enclave_entry == TEXT_START, "enclave_entry must be the first byte of .text (OENTRY)")
ASSERT(__enclave_end <= ENCLAVE_SIZE, "image larger than ENCLAVE_SIZE")
ASSERT(!DEFINED(_GLOBAL_OFFSET_TABLE_) || SIZEOF(.got) <= 24, "GOT entries need relocations")

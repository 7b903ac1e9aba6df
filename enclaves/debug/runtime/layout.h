/*
 * layout.h - the one description of a sample enclave's memory layout and of
 * the runtime's ABI numbers, shared by the linker script (enclave.lds.S),
 * the entry code (entry.S), the C runtime and the standalone image checker.
 *
 * Every offset here is an enclave offset (address - enclave base). The image
 * is linked at 0, so an offset is also the link-time address.
 *
 *   0                       TCS 0 .. TCS NTCS-1            (one page each)
 *   BLOCK(i), i < NTCS      per-TCS block:
 *     +0                    GUARD       1 page, a hole (never added)
 *     +PAGE                 STACK       STACK_PAGES, UNMEASURED
 *     +..                   GUARD       1 page, a hole
 *     +..                   EXC STACK   EXC_STACK_PAGES (exception path)
 *     +..                   THREAD      1 page: per-TCS runtime data (FS/GS base)
 *     +..                   SSA         NSSA frames of SSA_FRAME_PAGES
 *   RO_PAGE_OFF             one read-only data page (runtime's readonly_page)
 *   TEXT_START              .text (OENTRY = TEXT_START), .rodata, notes,
 *                           .eh_frame, .data/.bss
 *
 * Only preprocessor definitions: this file is included by ld scripts too.
 */
#ifndef SGXDBG_LAYOUT_H
#define SGXDBG_LAYOUT_H

#define PAGE_SIZE 4096

#ifndef NTCS
#define NTCS 1 /* TCS pages (threads) in the image; at most MAX_TCS */
#endif
#ifndef NSSA
#define NSSA 2 /* SSA frames per TCS; at most MAX_SSA */
#endif
#define MAX_TCS 4
#define MAX_SSA 4

/* SECS parameters (the NT_SGXDBG_ENCLAVE note). */
#define ENCLAVE_SIZE 0x100000       /* SECS.SIZE: 1 MiB */
#define SSA_FRAME_PAGES 1           /* SECS.SSAFRAMESIZE */
#define MISCSELECT_VALUE 0x1        /* EXINFO */
#define ATTR_DEBUG 0x2
#define ATTR_MODE64BIT 0x4
#ifndef ATTRIBUTES_VALUE
#define ATTRIBUTES_VALUE 0x6        /* DEBUG | MODE64BIT (the _nodebug images: 0x4) */
#endif
#define XFRM_VALUE 0x3              /* x87 | SSE */
#define MISCMASK_VALUE 0xFFFFFFFF
#define ATTRMASK_FLAGS 0xFFFFFFFFFFFFFFFD /* all but DEBUG, as the Intel SDK */
#define ATTRMASK_XFRM 0x3           /* x87 and SSE must be enabled */

/* Regions per TCS. */
#define STACK_PAGES 8
#define EXC_STACK_PAGES 4
#define BLOCK_PAGES (1 + STACK_PAGES + 1 + EXC_STACK_PAGES + 1 + NSSA * SSA_FRAME_PAGES)
#define BLOCK_SIZE (BLOCK_PAGES * PAGE_SIZE)
#define BLOCKS_START (NTCS * PAGE_SIZE)
#define BLOCK(i) (BLOCKS_START + (i) * BLOCK_SIZE)
#define TCS_OFF(i) ((i) * PAGE_SIZE)
#define GUARD_OFF(i) (BLOCK(i))
#define STACK_OFF(i) (BLOCK(i) + PAGE_SIZE)
#define STACK_SIZE (STACK_PAGES * PAGE_SIZE)
#define EXC_GUARD_OFF(i) (STACK_OFF(i) + STACK_SIZE)
#define EXC_STACK_OFF(i) (EXC_GUARD_OFF(i) + PAGE_SIZE)
#define EXC_STACK_SIZE (EXC_STACK_PAGES * PAGE_SIZE)
#define THREAD_OFF(i) (EXC_STACK_OFF(i) + EXC_STACK_SIZE)
#define SSA_OFF(i) (THREAD_OFF(i) + PAGE_SIZE)
#define RO_PAGE_OFF_FOR(n) ((n) * PAGE_SIZE + (n) * BLOCK_SIZE)
#define RO_PAGE_OFF RO_PAGE_OFF_FOR(NTCS) /* one read-only page (pf_readonly) */
#define TEXT_START (RO_PAGE_OFF + PAGE_SIZE)

/* Region kinds and flags of the NT_SGXDBG_REGIONS note. */
#define REGION_TCS 1
#define REGION_SSA 2
#define REGION_STACK 3
#define REGION_HEAP 4
#define REGION_GUARD 5
#define REGION_THREAD 6
#define REGION_UNMEASURED 1
#define REGION_NO_TCS 0xFFFFFFFF
#define NOTE_ENCLAVE 1
#define NOTE_REGIONS 2

/* THREAD page (FS and GS base) layout: words the linker script fills in,
 * then runtime state. */
#define TD_SELF 0         /* offset of this page */
#define TD_INDEX 8        /* TCS index */
#define TD_STACK_TOP 16   /* offset of the top of the stack */
#define TD_EXC_TOP 24     /* offset of the top of the exception stack */
#define TD_TCS 32         /* offset of this thread's TCS */
#define TD_SSA 40         /* offset of SSA frame 0 */
#define TD_NSSA 48        /* NSSA */
#define TD_OCALL_RSP 56   /* enclave RSP of a pending OCALL, 0 if none */
#define TD_IN_EXCEPTION 64 /* nonzero while the exception path runs */
#define TD_SLOTS 128      /* host context per CSSA: MAX_SSA slots */
#define TD_SLOT_SIZE 32   /* RSP, RBP, return address, MXCSR u32, FCW u16 */
#define SLOT_RSP 0
#define SLOT_RBP 8
#define SLOT_RET 16
#define SLOT_MXCSR 24
#define SLOT_FCW 28

/* Exception stack slice per nesting level (CSSA 1 .. NSSA-1). */
#if NSSA > 1
#define EXC_LEVELS (NSSA - 1)
#else
#define EXC_LEVELS 1
#endif
#define EXC_SLICE ((EXC_STACK_SIZE / EXC_LEVELS) & ~15)

/* The runtime's calling convention (README "Runtime ABI"). */
#define ECMD_ORET (-2)    /* RDI at EENTER: return from an OCALL */
#define ECMD_EXCEPT (-3)  /* RDI at EENTER with CSSA > 0 (any RDI accepted) */
#define EXIT_RETURN 0     /* RDI at EEXIT: ecall returned, RSI = value */
#define EXIT_OCALL 1      /* OCALL: RSI = number, RDX = data, R8 = length */
#define EXIT_HANDLED 2    /* exception handled: ERESUME; RSI = vector */
#define EXIT_UNHANDLED 3  /* exception not handled; RSI = vector or -1 */
#define EXIT_BADCALL 4    /* no such ecall, or ORET without an OCALL; RSI = RDI */
#define OCALL_PRINT 1     /* print the NUL-terminated string at RDX */
#define OCALL_PEER 2      /* run ecall RDX on the peer enclave; R8 = 0 (key samples) */
#define OCALL_MAILBOX 3   /* the host's mailbox page address, or 0; R8 = 0 (key samples) */
#define OCALL_MAX 1024    /* largest OCALL data block, bytes */
#define ARGS_MAX 16       /* values in the untrusted argument block */

#define ENCLU_EENTER 2
#define ENCLU_ERESUME 3
#define ENCLU_EEXIT 4

#endif

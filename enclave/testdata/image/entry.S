/* Entry point, TCS pages, SSA and stack space, and the SGXDBG notes of the
 * test image (enclaves/debug/README.md "Image convention"). Offsets here
 * must agree with image.ld. */

#ifdef NO_CFI
#define CFI(x)
#else
#define CFI(x) x
#endif

	.section .text.entry, "ax", @progbits
	.globl enclave_entry
	.type enclave_entry, @function
enclave_entry:				/* offset 0x9000: OENTRY of both TCS */
	CFI(.cfi_startproc)
	CFI(.cfi_undefined rip)		/* the outermost enclave frame */
	call outer			/* LINE:entry-call */
	ud2
	CFI(.cfi_endproc)

/* Two TCS: OSSA 0x2000 / 0x4000, NSSA 2, OENTRY 0x9000, FS/GS 0xb000. */
	.section .tcs, "aw", @progbits
	.balign 4096
	.quad 0, 0, 0x2000		/* STATE, FLAGS, OSSA */
	.long 0, 2			/* CSSA, NSSA */
	.quad 0x9000, 0, 0xb000, 0xb000	/* OENTRY, AEP, OFSBASGX, OGSBASGX */
	.fill 4096-64, 1, 0
	.quad 0, 0, 0x4000
	.long 0, 2
	.quad 0x9000, 0, 0xb000, 0xb000
	.fill 4096-64, 1, 0

	.section .ssa, "aw", @nobits
	.space 0x4000			/* 2 TCS x NSSA 2 x SSAFRAMESIZE 1 */

	.section .stack, "aw", @nobits
	.space 0x2000

	.section .heap, "aw", @nobits
	.space 0x2000

	.section .note.sgxdbg, "a", @note
	.balign 4
	.long 7, 64, 1			/* NT_SGXDBG_ENCLAVE */
	.asciz "SGXDBG"
	.balign 4
	.quad 0				/* SIZE: the smallest that fits */
	.long 1				/* SSAFRAMESIZE */
	.long 1				/* MISCSELECT: EXINFO */
	.quad 6				/* ATTRIBUTES.FLAGS: DEBUG|MODE64BIT */
	.quad 3				/* ATTRIBUTES.XFRM: x87|SSE */
	.long 0xffffffff		/* MISCMASK */
	.short 0x1234, 7		/* ISVPRODID, ISVSVN */
	.quad 0xfffffffffffffffd	/* ATTRIBUTEMASK.FLAGS: all but DEBUG */
	.quad 0xfffffffffffffffb	/* ATTRIBUTEMASK.XFRM */
	.quad 0				/* reserved */

	.balign 4
	.long 7, 8*32, 2		/* NT_SGXDBG_REGIONS */
	.asciz "SGXDBG"
	.balign 4
	/* offset, size, kind, flags, TCS index, reserved */
	.quad 0x0000, 0x1000; .long 1, 0, 0xffffffff, 0	/* 0 TCS 0 */
	.quad 0x1000, 0x1000; .long 1, 0, 1, 0		/* 1 TCS 1 */
	.quad 0x2000, 0x2000; .long 2, 0, 0, 0		/* 2 SSA of TCS 0 */
	.quad 0x4000, 0x2000; .long 2, 0, 1, 0		/* 3 SSA of TCS 1 */
	.quad 0x6000, 0x1000; .long 5, 0, 0xffffffff, 0	/* 4 GUARD */
	.quad 0x7000, 0x2000; .long 3, 1, 0, 0		/* 5 STACK of TCS 0, unmeasured */
	.quad 0xb000, 0x1000; .long 6, 0, 0, 0		/* 6 THREAD data of TCS 0 */
	.quad 0xd000, 0x2000; .long 4, 1, 0xffffffff, 0	/* 7 HEAP, unmeasured */

	.section .note.GNU-stack, "", @progbits

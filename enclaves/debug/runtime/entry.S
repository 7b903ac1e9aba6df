/*
 * entry.S - the enclave's only way in and out: OENTRY dispatch on CSSA,
 * the OCALL exit and its return, and EEXIT with scrubbing (README
 * "Runtime ABI").
 */
#include "layout.h"

#define ENCLU .byte 0x0f, 0x01, 0xd7

	.section .text.entry, "ax", @progbits
	.globl	enclave_entry
	.type	enclave_entry, @function
/*
 * OENTRY. EENTER leaves RAX = CSSA, RBX = the TCS, RCX = the address after
 * the host's ENCLU, RSP/RBP the host's; FS/GS base = this TCS's THREAD page.
 */
enclave_entry:
	.cfi_startproc
	.cfi_undefined rip
	lea	__enclave_base(%rip), %r11
	add	%fs:TD_SELF, %r11		/* r11 = THREAD page */
	cmp	%fs:TD_NSSA, %rax
	jae	.Lrefuse			/* impossible: EENTER needs CSSA < NSSA */
	mov	%rax, %r10
	shl	$5, %r10
	lea	TD_SLOTS(%r11, %r10), %r10	/* r10 = host slot for this CSSA */
	mov	%rsp, SLOT_RSP(%r10)
	mov	%rbp, SLOT_RBP(%r10)
	mov	%rcx, SLOT_RET(%r10)
	stmxcsr	SLOT_MXCSR(%r10)
	fnstcw	SLOT_FCW(%r10)
	cld
	ldmxcsr	.Lfx_init+24(%rip)
	fldcw	.Lfx_init(%rip)
	xor	%ebp, %ebp
	test	%rax, %rax
	jnz	.Lexception
	cmp	$ECMD_ORET, %rdi
	je	.Loret
	cmpq	$0, TD_OCALL_RSP(%r11)
	jne	.Lbadcall			/* no ecall while an OCALL is pending */
	lea	__enclave_base(%rip), %rsp
	add	TD_STACK_TOP(%r11), %rsp
	mov	%r11, %rdx
	call	runtime_ecall			/* (number, args, thread) -> RAX reason, RDX value */
	mov	%rax, %rdi
	mov	%rdx, %rsi
	xor	%edx, %edx
	xor	%r8d, %r8d
	xor	%eax, %eax			/* host slot 0 */
	jmp	enclave_exit

.Loret:
	mov	TD_OCALL_RSP(%r11), %r10
	test	%r10, %r10
	jz	.Lbadcall
	movq	$0, TD_OCALL_RSP(%r11)
	mov	%r10, %rsp
	mov	%rsi, %rax			/* the OCALL's result */
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	ret					/* out of runtime_ocall_exit */

.Lexception:
	lea	__enclave_base(%rip), %rsp
	add	TD_EXC_TOP(%r11), %rsp
	lea	-1(%rax), %r10
	imul	$EXC_SLICE, %r10, %r10
	sub	%r10, %rsp			/* one slice of the exception stack per level */
	push	%rax
	push	%rax
	mov	%rax, %rdi
	mov	%r11, %rsi
	call	runtime_exception		/* (cssa, thread) -> RAX reason, RDX vector */
	pop	%rcx
	pop	%rcx
	mov	%rax, %rdi
	mov	%rdx, %rsi
	mov	%rcx, %rax			/* host slot CSSA */
	xor	%edx, %edx
	xor	%r8d, %r8d
	jmp	enclave_exit

.Lbadcall:
	mov	%rdi, %rsi
	mov	$EXIT_BADCALL, %edi
	xor	%edx, %edx
	xor	%r8d, %r8d
	jmp	enclave_exit			/* RAX still = CSSA */

.Lrefuse:
	/* No slot to save the host's state in: leave with it untouched. */
	mov	%rcx, %rbx
	mov	%rdi, %rsi
	mov	$EXIT_BADCALL, %edi
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	mov	$ENCLU_EEXIT, %eax
	ENCLU
	ud2
	.cfi_endproc
	.size	enclave_entry, .-enclave_entry

/*
 * enclave_exit: RDI = reason, RSI = value, RDX/R8 = OCALL data and length
 * (0 otherwise), RAX = the host slot (the CSSA this context was entered at).
 * Restores the host's RSP, RBP, MXCSR and x87 control word, scrubs every
 * other register, and EEXITs to the host's return address.
 */
	.text
	.type	enclave_exit, @function
enclave_exit:
	.cfi_startproc
	.cfi_undefined rip
	lea	__enclave_base(%rip), %r11
	add	%fs:TD_SELF, %r11
	shl	$5, %rax
	lea	TD_SLOTS(%r11, %rax), %r10
	fxrstor	.Lfx_init(%rip)			/* x87 registers and XMM0-15 to zero */
	ldmxcsr	SLOT_MXCSR(%r10)
	fldcw	SLOT_FCW(%r10)
	mov	SLOT_RSP(%r10), %rsp
	mov	SLOT_RBP(%r10), %rbp
	mov	SLOT_RET(%r10), %rbx
	xor	%ecx, %ecx
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d			/* also clears CF, OF, SF and AF */
	mov	$ENCLU_EEXIT, %eax
	ENCLU
	ud2
	.cfi_endproc
	.size	enclave_exit, .-enclave_exit

/*
 * uint64_t runtime_ocall_exit(uint64_t number, const void *data, uint64_t len)
 * Leaves for the host's OCALL handler; returns the host's result when the
 * host EENTERs with RDI = ECMD_ORET.
 */
	.globl	runtime_ocall_exit
	.type	runtime_ocall_exit, @function
runtime_ocall_exit:
	.cfi_startproc
	push	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rbp, 0
	push	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rbx, 0
	push	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r12, 0
	push	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r13, 0
	push	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r14, 0
	push	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r15, 0
	lea	__enclave_base(%rip), %r11
	add	%fs:TD_SELF, %r11
	mov	%rsp, TD_OCALL_RSP(%r11)
	mov	%rdx, %r8
	mov	%rsi, %rdx
	mov	%rdi, %rsi
	mov	$EXIT_OCALL, %edi
	xor	%eax, %eax
	jmp	enclave_exit
	.cfi_endproc
	.size	runtime_ocall_exit, .-runtime_ocall_exit

/* FXRSTOR image of the initial x87/SSE state: FCW 0x37F, MXCSR 0x1F80. */
	.section .rodata
	.balign	16
.Lfx_init:
	.short	0x037f
	.fill	22, 1, 0
	.long	0x1f80
	.long	0				/* MXCSR_MASK (ignored by FXRSTOR) */
	.fill	512 - 32, 1, 0

	.section .note.GNU-stack, "", @progbits

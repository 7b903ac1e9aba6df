/*
 * enclu.S - the host's two ways into the enclave.
 *
 * host_enclu_eenter: its own ENCLU, the Intel SDK's two-site design: one
 * ENCLU at host_eenter_site for EENTER, a separate one at host_aep that
 * ERESUMEs when a signal handler returns to the AEP.
 * host_vdso_call / host_vdso_handler: __vdso_sgx_enter_enclave with a user
 * handler that captures the registers EEXIT left.
 *
 * Both keep the callee-saved registers themselves: the enclave scrubs them.
 */
#include "layout.h"

#define CTX_TCS 0
#define CTX_RDI 8
#define CTX_RSI 16
#define CTX_LEAF 24
#define CTX_EXIT_RDI 32
#define CTX_EXIT_RSI 40
#define CTX_EXIT_RDX 48
#define CTX_EXIT_R8 56
#define CTX_OCALL_LEN 64
#define CTX_OCALL_BUF 72
#define RUN_FUNCTION 8
#define RUN_USER_DATA 32

#define ENCLU .byte 0x0f, 0x01, 0xd7

/*
 * Stores RDI, RSI, RDX, R8 as EEXIT left them into the context at \ctx and,
 * for an OCALL, copies its data (RDX, R8 bytes, at most OCALL_MAX) into
 * ocall_buf before anything can reuse the stack below us, where the enclave
 * put it. Clobbers RCX, RDI, RSI.
 */
.macro CAPTURE_EXIT ctx
	mov	%rdi, CTX_EXIT_RDI(\ctx)
	mov	%rsi, CTX_EXIT_RSI(\ctx)
	mov	%rdx, CTX_EXIT_RDX(\ctx)
	mov	%r8, CTX_EXIT_R8(\ctx)
	movq	$0, CTX_OCALL_LEN(\ctx)
	cmp	$EXIT_OCALL, %rdi
	jne	.Lcaptured\@
	cmp	$OCALL_MAX, %r8
	ja	.Lcaptured\@
	test	%rdx, %rdx
	jz	.Lcaptured\@
	mov	%r8, CTX_OCALL_LEN(\ctx)
	mov	%r8, %rcx
	mov	%rdx, %rsi
	lea	CTX_OCALL_BUF(\ctx), %rdi
	cld
	rep movsb
.Lcaptured\@:
.endm

	.text

/* void host_enclu_eenter(struct enclu_ctx *ctx): EENTER ctx->tcs with
 * RDI, RSI from ctx; returns after the enclave's EEXIT. */
	.globl	host_enclu_eenter
	.type	host_enclu_eenter, @function
	.globl	host_eenter_site
	.globl	host_aep
host_enclu_eenter:
	.cfi_startproc
	push	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset rbp, -16
	mov	%rsp, %rbp
	.cfi_def_cfa_register rbp
	push	%rbx
	.cfi_offset rbx, -24
	push	%r12
	.cfi_offset r12, -32
	push	%r13
	.cfi_offset r13, -40
	push	%r14
	.cfi_offset r14, -48
	push	%r15
	.cfi_offset r15, -56
	push	%rdi				/* ctx at -48(%rbp) */
	mov	CTX_TCS(%rdi), %rbx
	mov	CTX_RSI(%rdi), %rsi
	mov	CTX_RDI(%rdi), %rdi
	lea	host_aep(%rip), %rcx
	mov	$ENCLU_EENTER, %eax
host_eenter_site:
	ENCLU
	/* EEXIT lands here with the RSP and RBP we entered with. */
	mov	-48(%rbp), %rax
	CAPTURE_EXIT %rax
	.cfi_remember_state
	lea	-40(%rbp), %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	.cfi_def_cfa rsp, 8
	ret
	.cfi_restore_state
	/* The AEP: after an AEX the thread is here with RAX = 3 (ERESUME),
	 * RBX = TCS, RCX = host_aep; a signal handler that returns resumes. */
host_aep:
	ENCLU
	ud2
	.cfi_endproc
	.size	host_enclu_eenter, .-host_enclu_eenter

/* int host_vdso_call(struct enclu_ctx *ctx, void *vdso_fn,
 *                    struct sgx_enclave_run *run):
 * __vdso_sgx_enter_enclave(ctx->rdi, ctx->rsi, 0, ctx->leaf, 0, 0, run). */
	.globl	host_vdso_call
	.type	host_vdso_call, @function
host_vdso_call:
	.cfi_startproc
	push	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset rbp, -16
	mov	%rsp, %rbp
	.cfi_def_cfa_register rbp
	push	%rbx
	.cfi_offset rbx, -24
	push	%r12
	.cfi_offset r12, -32
	push	%r13
	.cfi_offset r13, -40
	push	%r14
	.cfi_offset r14, -48
	push	%r15
	.cfi_offset r15, -56
	push	%rdi
	sub	$8, %rsp
	push	%rdx				/* run: the 7th argument */
	mov	%rsi, %rax
	mov	CTX_LEAF(%rdi), %rcx
	mov	CTX_RSI(%rdi), %rsi
	mov	CTX_RDI(%rdi), %rdi
	xor	%edx, %edx
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	call	*%rax
	lea	-40(%rbp), %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	.cfi_def_cfa rsp, 8
	ret
	.cfi_endproc
	.size	host_vdso_call, .-host_vdso_call

/* The vDSO's user handler: (rdi, rsi, rdx, rsp, r8, r9, run). After an
 * EEXIT (run->function == 4) captures the exit registers into
 * run->user_data; returns 0 so the vDSO returns to host_vdso_call. */
	.globl	host_vdso_handler
	.type	host_vdso_handler, @function
host_vdso_handler:
	.cfi_startproc
	mov	8(%rsp), %rax			/* run */
	cmpl	$ENCLU_EEXIT, RUN_FUNCTION(%rax)
	jne	1f
	mov	RUN_USER_DATA(%rax), %rax
	CAPTURE_EXIT %rax
1:
	xor	%eax, %eax
	ret
	.cfi_endproc
	.size	host_vdso_handler, .-host_vdso_handler

	.section .note.GNU-stack, "", @progbits

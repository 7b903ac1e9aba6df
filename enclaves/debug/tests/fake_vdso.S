/*
 * fake_vdso.S - a test double of __vdso_sgx_enter_enclave for host_native,
 * written from the documented ABI (SGX.md §4): (rdi, rsi, rdx, leaf, r8,
 * r9, run on the stack); one ENCLU is both the EENTER/ERESUME site and the
 * AEP; EEXIT sets run->function = 4; an exception that the kernel fixes up
 * (native_sgx.c plays the kernel) lands at fake_vdso_fixup with RDI =
 * vector, RSI = error code, RDX = address, RAX = the leaf; a user handler,
 * if set, is called with (rdi, rsi, rdx, rsp at exit, r8, r9, run) on a
 * 16-byte aligned stack and its result > 0 is the next leaf.
 */
	.text
	.globl	fake_vdso_enter
	.globl	fake_vdso_enclu
	.globl	fake_vdso_fixup
	.type	fake_vdso_enter, @function
fake_vdso_enter:
	.cfi_startproc
	push	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset rbp, -16
	mov	%rsp, %rbp
	.cfi_def_cfa_register rbp
	push	%rbx
	.cfi_offset rbx, -24
	mov	%ecx, %eax
.Lenter:
	cmp	$2, %eax
	jb	.Leinval
	cmp	$3, %eax
	ja	.Leinval
	mov	16(%rbp), %rcx			/* run */
	mov	$40, %ebx
.Lreserved:
	cmpq	$0, (%rcx, %rbx)
	jne	.Leinval
	add	$8, %ebx
	cmp	$256, %ebx
	jne	.Lreserved
	mov	(%rcx), %rbx			/* run->tcs */
	lea	fake_vdso_enclu(%rip), %rcx
fake_vdso_enclu:
	.byte	0x0f, 0x01, 0xd7
	mov	16(%rbp), %rbx
	movl	$4, 8(%rbx)
.Lexit:
	cmpq	$0, 24(%rbx)
	jne	.Lcall_handler
	xor	%eax, %eax
.Lreturn:
	pop	%rbx
	leave
	.cfi_def_cfa rsp, 8
	ret
	.cfi_def_cfa rbp, 16
.Leinval:
	mov	$-22, %eax
	jmp	.Lreturn
fake_vdso_fixup:
	mov	16(%rbp), %rbx
	mov	%eax, 8(%rbx)
	mov	%di, 12(%rbx)
	mov	%si, 14(%rbx)
	mov	%rdx, 16(%rbx)
	jmp	.Lexit
.Lcall_handler:
	mov	%rsp, %rcx			/* the untrusted RSP at exit */
	mov	%rbx, %rax			/* run */
	mov	%rsp, %rbx
	and	$15, %rbx			/* the alignment we undo after the call */
	and	$-16, %rsp
	sub	$8, %rsp
	push	%rax				/* run: the 7th argument */
	cld
	call	*24(%rax)
	lea	16(%rsp, %rbx), %rsp
	test	%eax, %eax
	jle	.Lreturn
	jmp	.Lenter
	.cfi_endproc
	.size	fake_vdso_enter, .-fake_vdso_enter

	.section .note.GNU-stack, "", @progbits

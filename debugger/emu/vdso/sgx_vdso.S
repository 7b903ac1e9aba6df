/*
 * The emulator's synthetic vDSO: __vdso_sgx_enter_enclave with the ABI of
 * the Linux kernel's (Documentation: arch/x86/include/uapi/asm/sgx.h,
 * struct sgx_enclave_run), written for sgxdbg.
 *
 * long __vdso_sgx_enter_enclave(rdi, rsi, rdx, unsigned int function,
 *                               r8, r9, struct sgx_enclave_run *run);
 * RDI, RSI, RDX, R8, R9 pass through to the enclave; `run` is the seventh
 * argument, on the stack (16(%rbp) once the frame is set up). One ENCLU is
 * both the EENTER/ERESUME site and the AEP. The emulator redirects an
 * exception at that ENCLU to sgx_vdso_fixup with RDI = vector, RSI = error
 * code, RDX = faulting address, RAX = the leaf, as the kernel's exception
 * fixup does.
 */
	.text
	.globl	__vdso_sgx_enter_enclave
	.type	__vdso_sgx_enter_enclave, @function
	.globl	sgx_vdso_enclu
	.hidden	sgx_vdso_enclu
	.globl	sgx_vdso_fixup
	.hidden	sgx_vdso_fixup

#define RUN		16	/* offset of `run` from %rbp */
#define RUN_TCS		0
#define RUN_FUNCTION	8
#define RUN_VECTOR	12
#define RUN_ERRCD	14
#define RUN_ADDR	16
#define RUN_HANDLER	24
#define RUN_RESERVED	40
#define RUN_SIZE	256

__vdso_sgx_enter_enclave:
	.cfi_startproc
	push	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	mov	%rsp, %rbp
	.cfi_def_cfa_register %rbp
	push	%rbx
	.cfi_rel_offset %rbx, -8
	mov	%ecx, %eax
enter:
	cmp	$2, %eax		/* EENTER */
	jb	einval
	cmp	$3, %eax		/* ERESUME */
	ja	einval
	mov	RUN(%rbp), %rcx
	mov	$RUN_RESERVED, %rbx
check_reserved:				/* the reserved bytes must be zero */
	cmpq	$0, (%rcx, %rbx)
	jne	einval
	add	$8, %rbx
	cmp	$RUN_SIZE, %rbx
	jne	check_reserved
	mov	RUN_TCS(%rcx), %rbx
	lea	sgx_vdso_enclu(%rip), %rcx	/* AEP */
sgx_vdso_enclu:
	.byte	0x0f, 0x01, 0xd7	/* ENCLU */
	/* EEXIT returns here. */
	mov	RUN(%rbp), %rbx
	movl	$4, RUN_FUNCTION(%rbx)	/* EEXIT */
exit_handler:
	cmpq	$0, RUN_HANDLER(%rbx)
	jne	call_handler
	xor	%eax, %eax
done:
	pop	%rbx
	leave
	.cfi_def_cfa %rsp, 8
	ret
	.cfi_def_cfa %rbp, 16
einval:
	mov	$-22, %eax		/* -EINVAL */
	jmp	done
sgx_vdso_fixup:
	mov	RUN(%rbp), %rbx
	mov	%eax, RUN_FUNCTION(%rbx)
	mov	%di, RUN_VECTOR(%rbx)
	mov	%si, RUN_ERRCD(%rbx)
	mov	%rdx, RUN_ADDR(%rbx)
	jmp	exit_handler
call_handler:
	/* handler(rdi, rsi, rdx, rsp at exit, r8, r9, run) */
	mov	%rsp, %rcx
	mov	%rbx, %rax		/* run */
	mov	%rsp, %rbx		/* keep the misalignment to undo it */
	and	$0xf, %rbx
	and	$-0x10, %rsp
	push	%rax			/* padding: aligned after the next push */
	push	%rax			/* 7th argument */
	cld
	mov	RUN_HANDLER(%rax), %rax
	lfence
	call	*%rax
	lea	0x10(%rsp, %rbx), %rsp
	cmp	$0, %eax
	jle	done			/* <= 0: return it */
	jmp	enter			/* 2 or 3: run that leaf again */
	.cfi_endproc
	.size	__vdso_sgx_enter_enclave, .-__vdso_sgx_enter_enclave

/*
 * The kernel vDSO's time and CPU functions, so that the C library keeps
 * its fast paths. Each jumps to the real vDSO's function (which stays
 * mapped where the kernel put it); the emulator writes their addresses
 * into sgx_vdso_real before the page becomes read-only. Where the real
 * vDSO has none (0), the function makes the system call instead.
 */
#define FORWARD(name, slot, nr)					\
	.globl	__vdso_##name;					\
	.type	__vdso_##name, @function;			\
	.weak	name;						\
	.set	name, __vdso_##name;				\
__vdso_##name:							\
	.cfi_startproc;						\
	mov	sgx_vdso_real+8*slot(%rip), %rax;		\
	test	%rax, %rax;					\
	jz	1f;						\
	jmp	*%rax;						\
1:	mov	$nr, %eax;					\
	syscall;						\
	ret;							\
	.cfi_endproc;						\
	.size	__vdso_##name, .-__vdso_##name

FORWARD(clock_gettime, 0, 228)
FORWARD(gettimeofday, 1, 96)
FORWARD(time, 2, 201)
FORWARD(getcpu, 3, 309)
FORWARD(clock_getres, 4, 229)

	.globl	sgx_vdso_real
	.hidden	sgx_vdso_real
	.balign	8
sgx_vdso_real:				/* filled by the emulator */
	.quad	0, 0, 0, 0, 0
	.size	sgx_vdso_real, .-sgx_vdso_real
	.section .note.GNU-stack, "", @progbits

/* Enclave code for the SGX2 tests (edmm_test.go, testdata/edmm.c): one
 * page at offset 0; the data page at 0x1000 holds the SECINFO the leaves
 * take, at 0x1040.
 * EENTER: RDI = struct op in host memory (edmm.c), RCX = return address.
 * The code keeps to RAX, RBX, RCX, RDX, R8 and R9, which the vDSO and the
 * host's C code do not need kept. */
#define OP	0
#define ADDR	8
#define VALUE	16
#define FLAGS	24
#define RET	32
#define BACK	40
#define CSSA	48
	.text
entry:
	mov	%rcx, BACK(%rdi)
	mov	%rax, CSSA(%rdi)		/* EENTER's RAX: the TCS's CSSA */
	mov	OP(%rdi), %rax
	cmp	$0, %rax
	je	op_put
	cmp	$1, %rax
	je	op_get
	cmp	$2, %rax
	je	op_eaccept
	cmp	$3, %rax
	je	op_emodpe
	cmp	$4, %rax
	je	op_eacceptcopy
	cmp	$5, %rax
	je	op_accept_range
	cmp	$6, %rax
	je	op_edeccssa
	jmp	out
op_put:					/* *ADDR = VALUE */
	mov	ADDR(%rdi), %rbx
	mov	VALUE(%rdi), %rdx
	mov	%rdx, (%rbx)
	jmp	out
op_get:					/* VALUE = *ADDR */
	mov	ADDR(%rdi), %rbx
	mov	(%rbx), %rdx
	mov	%rdx, VALUE(%rdi)
	jmp	out
op_eaccept:				/* RET = EACCEPT(SECINFO FLAGS, ADDR) */
	lea	entry+0x1040(%rip), %rbx
	mov	FLAGS(%rdi), %rdx
	mov	%rdx, (%rbx)
	mov	ADDR(%rdi), %rcx
	mov	$5, %eax
	.byte	0x0f, 0x01, 0xd7
	mov	%rax, RET(%rdi)
	jmp	out
op_emodpe:				/* EMODPE(SECINFO FLAGS, ADDR) */
	lea	entry+0x1040(%rip), %rbx
	mov	FLAGS(%rdi), %rdx
	mov	%rdx, (%rbx)
	mov	ADDR(%rdi), %rcx
	mov	$6, %eax
	.byte	0x0f, 0x01, 0xd7
	jmp	out
op_eacceptcopy:				/* RET = EACCEPTCOPY(SECINFO FLAGS, ADDR, from VALUE) */
	lea	entry+0x1040(%rip), %rbx
	mov	FLAGS(%rdi), %rdx
	mov	%rdx, (%rbx)
	mov	ADDR(%rdi), %rcx
	mov	VALUE(%rdi), %rdx
	mov	$7, %eax
	.byte	0x0f, 0x01, 0xd7
	mov	%rax, RET(%rdi)
	jmp	out
op_accept_range:			/* EACCEPT VALUE pages from ADDR; VALUE = pages accepted */
	lea	entry+0x1040(%rip), %rbx
	mov	FLAGS(%rdi), %rdx
	mov	%rdx, (%rbx)
	mov	ADDR(%rdi), %rcx
	mov	VALUE(%rdi), %r8
	xor	%r9, %r9
	xor	%eax, %eax
1:	cmp	%r8, %r9
	jae	2f
	mov	$5, %eax
	.byte	0x0f, 0x01, 0xd7
	test	%rax, %rax
	jnz	2f
	add	$0x1000, %rcx
	inc	%r9
	jmp	1b
2:	mov	%rax, RET(%rdi)
	mov	%r9, VALUE(%rdi)
	jmp	out
op_edeccssa:				/* EDECCSSA */
	mov	$9, %eax
	.byte	0x0f, 0x01, 0xd7
	jmp	out
out:
	mov	BACK(%rdi), %rbx
	mov	$4, %eax
	.byte	0x0f, 0x01, 0xd7
	.section .note.GNU-stack,"",@progbits

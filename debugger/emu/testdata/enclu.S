/* ENCLU call sites for conform.c: EENTER at its own site, the AEP a second
 * ENCLU (ERESUME), as the Intel SDK does. */
	.text
	.globl do_eenter, do_eresume, eenter_site, aep
/* uint64_t do_eenter(tcs, rdi, rsi): returns the enclave's RSI at EEXIT */
do_eenter:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rdi, %rbx
	mov %rsi, %rdi
	mov %rdx, %rsi
	lea aep(%rip), %rcx
	mov $2, %eax
eenter_site:
	.byte 0x0f, 0x01, 0xd7
	mov %rsi, %rax
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
aep:
	.byte 0x0f, 0x01, 0xd7
	ud2
do_eresume:
	push %rbx
	mov %rdi, %rbx
	lea aep(%rip), %rcx
	mov $3, %eax
	.byte 0x0f, 0x01, 0xd7
	pop %rbx
	ret
	.section .note.GNU-stack,"",@progbits

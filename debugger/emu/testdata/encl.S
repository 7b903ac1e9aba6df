/* Enclave code for the conformance tests (one page at offset 0).
 * EENTER: RDI = op, RSI = argument, RCX = return address.
 * The data page is at offset 0x1000 (RW), a read-only page at 0x2000,
 * the TCS at 0x3000, the SSA at 0x4000. */
	.text
entry:
	cmp $0, %rdi
	je op_echo
	cmp $1, %rdi
	je op_spin
	cmp $2, %rdi
	je op_ud2
	cmp $3, %rdi
	je op_write_ro
	cmp $4, %rdi
	je op_write_tcs
	cmp $5, %rdi
	je op_int3
	cmp $6, %rdi
	je op_cpuid
	cmp $7, %rdi
	je op_read_outside
	cmp $8, %rdi
	je op_div0
	cmp $9, %rdi
	je op_noncanonical
	cmp $10, %rdi
	je op_syscall
	cmp $11, %rdi
	je op_xmm
	cmp $12, %rdi
	je op_enclu
	jmp op_exit
op_echo:
	lea 1(%rsi), %rsi
	jmp op_exit
op_spin:
	jmp op_spin
op_ud2:
	mov $0x1111, %r12
at_ud2:
	ud2
op_write_ro:
	mov $0x2222, %r13
	lea entry+0x2008(%rip), %rax
at_write_ro:
	movq $7, (%rax)
	jmp op_exit
op_write_tcs:
	lea entry+0x3010(%rip), %rax
at_write_tcs:
	movq $7, (%rax)
	jmp op_exit
op_int3:
at_int3:
	int3
	jmp op_exit
op_cpuid:
	xor %eax, %eax
at_cpuid:
	cpuid
	jmp op_exit
op_read_outside:
	mov $0x10008, %rax
at_read_outside:
	mov (%rax), %rax
	jmp op_exit
op_div0:
	xor %edx, %edx
	mov $1, %eax
	xor %ecx, %ecx
at_div0:
	div %ecx
	jmp op_exit
op_noncanonical:
	movabs $0x8000000000000000, %rax
at_noncanonical:
	mov (%rax), %rax
	jmp op_exit
op_syscall:
	mov $39, %eax
at_syscall:
	syscall
	jmp op_exit
op_xmm:
	movabs $0x1122334455667788, %rax
	movq %rax, %xmm0
	movabs $0x99aabbccddeeff00, %rax
	movq %rax, %xmm15
at_xmm:
	ud2
op_enclu:
	mov %rsi, %rax			/* the leaf */
at_enclu:
	.byte 0x0f, 0x01, 0xd7
	jmp op_exit
op_exit:
	mov %rcx, %rbx
	mov $4, %eax
	.byte 0x0f, 0x01, 0xd7
	.section .note.GNU-stack,"",@progbits

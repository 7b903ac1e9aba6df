/* Enclave code for bench.c and robust.c (one page at offset 0 of the
 * conform blob layout: data 0x1000, read-only 0x2000, TCS 0x3000, SSA
 * 0x4000). EENTER: RDI = op, RSI = argument, RCX = return address.
 *   op 0: EEXIT with RSI + 1
 *   op 1: store 1 at the untrusted address in RSI, then spin forever
 *   op 2: INT3 (SSA.RIP is the INT3 itself, so ERESUME runs it again) */
	.text
entry:
	cmp $0, %rdi
	je op_echo
	cmp $1, %rdi
	je op_spin
	cmp $2, %rdi
	je op_int3
	jmp op_exit
op_echo:
	lea 1(%rsi), %rsi
	jmp op_exit
op_spin:
	movq $1, (%rsi)
spin:
	pause
	jmp spin
op_int3:
	int3
	jmp op_exit
op_exit:
	mov %rcx, %rbx
	mov $4, %eax
	.byte 0x0f, 0x01, 0xd7
	.section .note.GNU-stack,"",@progbits

package target

// Regs is the general register set of an x86-64 thread as the operating
// system shows it (the kernel's struct user_regs_struct, field for field,
// so that a backend converts its own form with a plain type conversion).
type Regs struct {
	R15, R14, R13, R12, Rbp, Rbx, R11, R10, R9, R8 uint64
	Rax, Rcx, Rdx, Rsi, Rdi, Orig_rax              uint64
	Rip, Cs, Eflags, Rsp, Ss                       uint64
	Fs_base, Gs_base                               uint64
	Ds, Es, Fs, Gs                                 uint64
}

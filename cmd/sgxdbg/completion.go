package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// stopOnWords are the --stop-on words (debugger.ParsePolicy's).
var stopOnWords = []string{"aex", "eenter", "eexit", "eresume", "enclu-fault", "all", "none"}

// completeWords completes a flag's value from a fixed list of words, each
// with its description after a tab (shown by zsh and fish).
func completeWords(words ...string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, w := range words {
			name, _, _ := strings.Cut(w, "\t")
			if strings.HasPrefix(name, toComplete) {
				out = append(out, w)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeStopOn completes a --stop-on value: its words, and after "aex "
// the exception vectors by name (the value is one shell word: quote it,
// as in --stop-on 'aex #PF,#GP').
func completeStopOn(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	head, last := "", toComplete
	if i := strings.LastIndexAny(toComplete, " ,"); i >= 0 {
		head, last = toComplete[:i+1], toComplete[i+1:]
	}
	var out []cobra.Completion
	if strings.HasPrefix(strings.ToLower(head), "aex ") || (head != "" && strings.HasSuffix(head, ",")) {
		for v := sgx.Vector(0); v < 32; v++ {
			name := v.String()
			if strings.HasPrefix(name, "#") && strings.HasPrefix(strings.ToUpper(name), strings.ToUpper(last)) {
				out = append(out, head+name+"\t"+v.Name())
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
	for _, w := range stopOnWords {
		if strings.HasPrefix(w, last) {
			out = append(out, head+w)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// registerExecCompletions completes exec's flag values.
func registerExecCompletions(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("stop-on", completeStopOn)
	_ = cmd.RegisterFlagCompletionFunc("dump-on", completeWords("aex\tat every AEX stop", "fatal\tat the last AEX before a bad end", "exit\tat the last stop"))
	_ = cmd.RegisterFlagCompletionFunc("backend", completeWords("auto\tthe emulator (hardware once the hw backend exists)", "emu\tthe SGX emulator"))
	registerCPUCompletions(cmd)
}

// registerCPUCompletions completes the emulated processor's flags (exec
// and emulate).
func registerCPUCompletions(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("cpu", completeWords("sgx2\tSGX1 and SGX2 leaves, EDMM ioctls", "sgx1\tSGX1 only"))
	_ = cmd.RegisterFlagCompletionFunc("cpuid", completeWords("auto\tfaulting where the CPU has it, else rewrite", "faulting\tarch_prctl(ARCH_SET_CPUID)", "rewrite\tCPUID to UD2 in enclave functions (reported)"))
}

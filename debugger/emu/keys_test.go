package emu

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
	"github.com/sgxdbg/sgxdbg/sgx"
	"github.com/sgxdbg/sgxdbg/ssa"
)

// testCPUSecret pins the emulated processor's secret in tests, so that no
// test reads or creates the user's secret file.
var testCPUSecret = func() []byte {
	b := make([]byte, sgx.CPUSecretSize)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

// keyRun is one run of the sample host: its stdout lines and the
// identities of the enclaves it initialized, in order.
type keyRun struct {
	out   []string
	encls []Event
}

func runKeysHost(t *testing.T, secret []byte, args ...string) keyRun {
	t.Helper()
	dir := fixtures.Samples(t)
	argv := []string{filepath.Join(dir, "host")}
	for _, a := range args {
		if strings.HasSuffix(a, ".elf") || strings.HasSuffix(a, ".sig") {
			a = filepath.Join(dir, a)
		}
		argv = append(argv, a)
	}
	outF, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer outF.Close()
	var r keyRun
	st, err := Run(Options{Path: argv[0], Args: argv, Files: []*os.File{os.Stdin, outF, os.Stderr}, CPUSecret: secret,
		OnEvent: func(ev Event) {
			if ev.Kind == EvEnclaveInitialized {
				r.encls = append(r.encls, ev)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if st.ShellCode() != 0 {
		t.Fatalf("host %v: exit %d", args, st.ShellCode())
	}
	b, _ := os.ReadFile(outF.Name())
	r.out = lines(string(b))
	return r
}

// expectedSealKeys computes, with the sgx package, the two lines a key
// sample prints for its seal keys (runtime/sgxkeys.c get_seal_key: SEAL_KEY,
// ATTRIBUTEMASK {0xFF0000000000000B, 0}, MISCMASK 0xF0000000, ISVSVN,
// CPUSVN and KEYID zero), from the secret, the MRENCLAVE the emulator
// measured and the sample's SIGSTRUCT.
func expectedSealKeys(t *testing.T, secret []byte, name string, mrenclave [32]byte) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtures.Samples(t), name+".elf.sig"))
	if err != nil {
		t.Fatal(err)
	}
	var sig sgx.SigStruct
	if err := sig.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	// The samples' SECS (README "Memory layout"): MISCSELECT EXINFO,
	// ATTRIBUTES DEBUG|MODE64BIT, XFRM 3.
	secs := sgx.SECS{MiscSelect: sgx.MiscEXINFO, Attributes: sgx.Attributes{Flags: sgx.AttrDebug | sgx.AttrMode64Bit, XFRM: 3},
		MRENCLAVE: mrenclave}
	id := sgx.IdentityAfterEINIT(&secs, &sig)
	h, err := sgx.NewKeyHierarchy(secret)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range []struct {
		policy sgx.KeyPolicy
		label  string
	}{{sgx.PolicyMRENCLAVE, "mrenclave"}, {sgx.PolicyMRSIGNER, "mrsigner"}} {
		k, err := h.GetKey(&id, &sgx.KeyRequest{KeyName: sgx.KeySeal, KeyPolicy: p.policy,
			AttributeMask: sgx.Attributes{Flags: 0xFF0000000000000B}, MiscMask: 0xF0000000})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, "enclave: "+name+": seal "+p.label+" "+hex.EncodeToString(k[:]))
	}
	return out
}

func sealLines(t *testing.T, r keyRun, name string, ecall string) []string {
	t.Helper()
	want := "ecall " + ecall + " returned 0x2"
	if len(r.out) != 3 || r.out[2] != want {
		t.Fatalf("%s: stdout %q, want two key lines and %q", name, r.out, want)
	}
	return r.out[:2]
}

// TestSealKeys runs the keys and verifier samples' seal-key ecalls under
// the emulator with a pinned secret and checks the exact keys, their
// stability, and how they depend on policy, enclave, signer and secret.
func TestSealKeys(t *testing.T) {
	keys1 := runKeysHost(t, testCPUSecret, "keys.elf", "keys.elf.sig", "0")
	keys2 := runKeysHost(t, testCPUSecret, "keys.elf", "keys.elf.sig", "0")
	ver := runKeysHost(t, testCPUSecret, "verifier.elf", "verifier.elf.sig", "2")
	k1, k2, kv := sealLines(t, keys1, "keys", "0"), sealLines(t, keys2, "keys", "0"), sealLines(t, ver, "verifier", "2")

	want := expectedSealKeys(t, testCPUSecret, "keys", keys1.encls[0].MRENCLAVE)
	if !sameLines(k1, want, false) {
		t.Errorf("keys' seal keys %q, want %q", k1, want)
	}
	wantV := expectedSealKeys(t, testCPUSecret, "verifier", ver.encls[0].MRENCLAVE)
	if !sameLines(kv, wantV, false) {
		t.Errorf("verifier's seal keys %q, want %q", kv, wantV)
	}
	if !sameLines(k1, k2, false) {
		t.Errorf("seal keys differ between two runs: %q, %q", k1, k2)
	}
	hexOf := func(line string) string { return line[strings.LastIndexByte(line, ' ')+1:] }
	if hexOf(k1[0]) == hexOf(k1[1]) {
		t.Errorf("MRENCLAVE and MRSIGNER policy give the same key %s", hexOf(k1[0]))
	}
	if hexOf(k1[1]) != hexOf(kv[1]) {
		t.Errorf("MRSIGNER keys of two enclaves of one signer differ: %s, %s", hexOf(k1[1]), hexOf(kv[1]))
	}
	if hexOf(k1[0]) == hexOf(kv[0]) {
		t.Errorf("MRENCLAVE keys of two enclaves are equal: %s", hexOf(k1[0]))
	}
	other := bytes.Repeat([]byte{0xa5}, sgx.CPUSecretSize)
	k3 := sealLines(t, runKeysHost(t, other, "keys.elf", "keys.elf.sig", "0"), "keys", "0")
	if hexOf(k3[0]) == hexOf(k1[0]) || hexOf(k3[1]) == hexOf(k1[1]) {
		t.Errorf("another CPU secret gives the same keys: %q", k3)
	}
	if want := expectedSealKeys(t, other, "keys", keys1.encls[0].MRENCLAVE); !sameLines(k3, want, false) {
		t.Errorf("keys under another secret %q, want %q", k3, want)
	}
}

// TestCPUSecretSources: with no Options.CPUSecret the secret comes from
// $SGXDBG_CPU_SECRET, else from the per-user file, made on first use with
// mode 0600 and reused afterwards.
func TestCPUSecretSources(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv(CPUSecretEnv, hex.EncodeToString(testCPUSecret))
	fromEnv := runKeysHost(t, nil, "keys.elf", "keys.elf.sig", "0")
	want := expectedSealKeys(t, testCPUSecret, "keys", fromEnv.encls[0].MRENCLAVE)
	if got := sealLines(t, fromEnv, "keys", "0"); !sameLines(got, want, false) {
		t.Errorf("keys with $%s: %q, want %q", CPUSecretEnv, got, want)
	}
	path := filepath.Join(cfg, "sgxdbg", "cpu-secret")
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("the secret file was made although $%s is set: %v", CPUSecretEnv, err)
	}

	os.Unsetenv(CPUSecretEnv)
	first := sealLines(t, runKeysHost(t, nil, "keys.elf", "keys.elf.sig", "0"), "keys", "0")
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != 0o600 {
		t.Errorf("%s has mode %v, want -rw-------", path, fi.Mode())
	}
	raw, _ := os.ReadFile(path)
	secret, err := ParseCPUSecret(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	if want := expectedSealKeys(t, secret, "keys", fromEnv.encls[0].MRENCLAVE); !sameLines(first, want, false) {
		t.Errorf("keys from the new secret file %q, want %q", first, want)
	}
	again := sealLines(t, runKeysHost(t, nil, "keys.elf", "keys.elf.sig", "0"), "keys", "0")
	if !sameLines(first, again, false) {
		t.Errorf("the secret file's keys changed between runs: %q, %q", first, again)
	}
}

// TestReportFields has the keys sample print the REPORT EREPORT wrote for
// its own TARGETINFO and checks every field, and the MAC, against the sgx
// package's model of the emulated processor: CPUSVN, MISCSELECT,
// ATTRIBUTES with INIT, MRENCLAVE as measured, MRSIGNER of the SIGSTRUCT,
// ISVPRODID/ISVSVN, CONFIGID/CONFIGSVN zero (no KSS), REPORTDATA as the
// enclave passed it, KEYID, and the AES-CMAC under the REPORT key.
func TestReportFields(t *testing.T) {
	r := runKeysHost(t, testCPUSecret, "keys.elf", "keys.elf.sig", "6")
	if len(r.out) != 2 || r.out[1] != "ecall 6 returned 0x1b0" || !strings.HasPrefix(r.out[0], "enclave: keys: report ") {
		t.Fatalf("stdout %q", r.out)
	}
	raw, err := hex.DecodeString(strings.TrimPrefix(r.out[0], "enclave: keys: report "))
	if err != nil {
		t.Fatal(err)
	}
	var got sgx.Report
	if err := got.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	sigRaw, _ := os.ReadFile(filepath.Join(fixtures.Samples(t), "keys.elf.sig"))
	var sig sgx.SigStruct
	if err := sig.UnmarshalBinary(sigRaw); err != nil {
		t.Fatal(err)
	}
	h, _ := sgx.NewKeyHierarchy(testCPUSecret)
	want := sgx.Report{CPUSVN: sgx.EmulatedCPUSVN, MiscSelect: sgx.MiscEXINFO,
		Attributes: sgx.Attributes{Flags: sgx.AttrInit | sgx.AttrDebug | sgx.AttrMode64Bit, XFRM: 3},
		MRENCLAVE:  r.encls[0].MRENCLAVE, MRSIGNER: sig.MRSIGNER(), ISVProdID: sig.ISVProdID, ISVSVN: sig.ISVSVN,
		KeyID: h.ReportKeyID}
	for i := range want.ReportData {
		want.ReportData[i] = byte(0x20 + i)
	}
	if want.MRENCLAVE != sig.EnclaveHash || want.MRSIGNER != r.encls[0].MRSIGNER {
		t.Fatalf("the emulator's MRENCLAVE/MRSIGNER %x/%x differ from the SIGSTRUCT's %x/%x",
			r.encls[0].MRENCLAVE, r.encls[0].MRSIGNER, sig.EnclaveHash, sig.MRSIGNER())
	}
	self := sgx.TargetInfoOf(&want)
	mac := h.ReportKey(&self, h.ReportKeyID)
	want.MAC, _ = sgx.CMAC(mac[:], want.Body())
	if got != want {
		t.Errorf("REPORT\n got %+v\nwant %+v", got, want)
	}
	if !h.VerifyReport(&got, &self) {
		t.Error("the report does not verify for its own enclave")
	}
	got.ReportData[5] ^= 0x10
	if h.VerifyReport(&got, &self) {
		t.Error("a modified report verifies")
	}
}

// TestStepOverEGETKEY: at the INT3 before an EGETKEY (keys ecall 8) the
// debugger moves SSA.RIP past the INT3 and ERESUMEs with a single step.
// The emulated EGETKEY completes (RAX 0, the key in the enclave) and the
// step's #DB follows it at once: SSA.RIP is the instruction after the
// ENCLU, as on hardware — not the one after that.
func TestStepOverEGETKEY(t *testing.T) {
	dir := fixtures.Samples(t)
	elf := filepath.Join(dir, "keys.elf")
	syms := symbols(t, elf)
	argv := []string{filepath.Join(dir, "host"), elf, elf + ".sig", "8"}
	outF, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer outF.Close()
	type seen struct {
		vector uint8
		rip    uint64
		rax    uint64
	}
	var stops []seen
	var stopErr error
	var base uint64
	frameOf := func(s *Stop) (addr uint64, size int) {
		ev := s.Event()
		for _, e := range s.Emulator().Enclaves() {
			if e.Base == ev.Enclave {
				tcs := make([]byte, 24)
				if _, err := s.ReadEnclave(tcs, ev.TCS); err != nil {
					stopErr = err
				}
				ossa := binary.LittleEndian.Uint64(tcs[16:])
				size = int(e.SSAFrameSize) * sgx.PageSize
				return e.Base + ossa + uint64(ev.SSA)*uint64(size), size
			}
		}
		return 0, 0
	}
	st, err := Run(Options{Path: argv[0], Args: argv, Files: []*os.File{os.Stdin, outF, os.Stderr}, CPUSecret: testCPUSecret,
		OnStop: func(s *Stop) {
			ev := s.Event()
			if ev.Kind != EvAEX || stopErr != nil {
				return
			}
			addr, size := frameOf(s)
			frame := make([]byte, size)
			if _, err := s.ReadEnclave(frame, addr); err != nil {
				stopErr = err
				return
			}
			gpr := size - sgx.GPRSGXSize
			rip := binary.LittleEndian.Uint64(frame[gpr+ssa.OffRIP:])
			stops = append(stops, seen{uint8(ev.Vector), rip, binary.LittleEndian.Uint64(frame[gpr:])})
			base = ev.Enclave
			step := ev.Vector == sgx.VectorBP
			if step {
				var b [8]byte
				binary.LittleEndian.PutUint64(b[:], rip+1) // past the INT3
				if _, err := s.WriteEnclave(b[:], addr+uint64(gpr)+ssa.OffRIP); err != nil {
					stopErr = err
					return
				}
			}
			stopErr = s.ERESUME(step)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if stopErr != nil {
		t.Fatal(stopErr)
	}
	b, _ := os.ReadFile(outF.Name())
	if got := lines(string(b)); st.ShellCode() != 0 || len(got) != 1 || got[0] != "ecall 8 returned 0x0" {
		t.Fatalf("exit %d, stdout %q; want 0 and EGETKEY's RAX 0", st.ShellCode(), got)
	}
	if len(stops) != 2 {
		t.Fatalf("stops %+v, want the #BP and the step's #DB", stops)
	}
	int3 := stops[0].rip
	if stops[0].vector != uint8(sgx.VectorBP) || stops[1].vector != uint8(sgx.VectorDB) {
		t.Fatalf("stops %+v, want #BP then #DB", stops)
	}
	if stops[1].rip != int3+4 {
		t.Errorf("#DB at SSA.RIP %#x, want %#x (after the ENCLU at %#x)", stops[1].rip, int3+4, int3+1)
	}
	if stops[1].rax != 0 {
		t.Errorf("RAX at the #DB %#x, want 0 (EGETKEY succeeded)", stops[1].rax)
	}
	if fn := base + syms["step_over_egetkey"]; int3 < fn || int3 > fn+0x40 {
		t.Errorf("INT3 at %#x is not in step_over_egetkey at %#x", int3, fn)
	}
}

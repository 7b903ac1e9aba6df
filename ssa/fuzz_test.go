package ssa

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// fuzzFrame lays fuzz data out as a one-page frame: the data's last 200
// bytes (or all of it, if shorter) end the frame, where EXINFO and GPRSGX
// live; the rest starts it, where the XSAVE area lives.
func fuzzFrame(data []byte) []byte {
	b := make([]byte, 4096)
	tail := min(len(data), 200)
	head := data[:len(data)-tail]
	copy(b[:4096-200], head)
	copy(b[4096-tail:], data[len(data)-tail:])
	return b
}

// frameSeed is the inverse of fuzzFrame for a frame whose XSAVE area ends
// at xsaveEnd: its XSAVE bytes, then its last 200 bytes.
func frameSeed(b []byte, xsaveEnd int) []byte {
	return append(bytes.Clone(b[:xsaveEnd]), b[len(b)-200:]...)
}

func FuzzDecodeFrame(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, xfrm uint64, misc uint32) {
		g := Geometry{Base: 0x7f0000000000, OSSA: 0x3000, FrameSize: 1, MiscSelect: sgx.MiscSelect(misc), XFRM: xfrm}
		b := fuzzFrame(data)
		fr, err := DecodeFrame(b, g, 1)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			return
		}
		if err := fr.Render(io.Discard, RenderOptions{XSave: true}); err != nil {
			t.Fatal(err)
		}
		fr.FaultRIP()
		Synthetic(1, 2, fr, 3, 4, 5)
		// decode → encode → decode is stable, over the original bytes and
		// over zeros.
		for _, base := range [][]byte{bytes.Clone(b), make([]byte, len(b))} {
			if err := fr.Encode(base, g); err != nil {
				t.Fatalf("encode decoded frame: %v", err)
			}
			fr2, err := DecodeFrame(base, g, 1)
			if err != nil {
				t.Fatalf("decode re-encoded frame: %v", err)
			}
			if !reflect.DeepEqual(fr, fr2) {
				t.Fatalf("unstable:\n%+v\n%+v", fr, fr2)
			}
		}
	})
}

func FuzzGPRSGX(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var g GPRSGX
		if err := g.UnmarshalBinary(data); err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			return
		}
		out, err := g.MarshalBinary()
		if err != nil {
			t.Fatalf("marshal decoded GPRSGX: %v", err)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("round trip:\n% x\n% x", out, data)
		}
	})
}

func FuzzXSave(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, xfrm uint64) {
		x, err := DecodeXSave(data, xfrm)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			return
		}
		for _, base := range [][]byte{bytes.Clone(data), make([]byte, len(data))} {
			if err := x.Encode(base, xfrm); err != nil {
				t.Fatalf("encode decoded XSAVE: %v", err)
			}
			x2, err := DecodeXSave(base, xfrm)
			if err != nil {
				t.Fatalf("decode re-encoded XSAVE: %v", err)
			}
			if !reflect.DeepEqual(x, x2) {
				t.Fatalf("unstable:\n%+v\n%+v", x, x2)
			}
		}
	})
}

// seedFile renders one corpus entry in go test's corpus file format.
func seedFile(args ...any) []byte {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case uint64:
			fmt.Fprintf(&b, "uint64(%d)\n", v)
		case uint32:
			fmt.Fprintf(&b, "uint32(%d)\n", v)
		}
	}
	return b.Bytes()
}

// fuzzSeeds are the seed corpus entries, built from the hand-built frames
// of the decoding tests: valid frames for XFRM 3 and 0xE7, an INT3 frame,
// and one frame for each rejection.
func fuzzSeeds() map[string][]byte {
	exinfo := uint32(sgx.MiscEXINFO)
	int3 := handFrame(3)
	le.PutUint32(int3[4072:], uint32(MakeExitInfo(sgx.VectorBP, sgx.ExitSoftware)))
	reserved := handFrame(3)
	le.PutUint32(reserved[4072:], 0x8010030e)
	compacted := handFrame(3)
	le.PutUint64(compacted[520:], 1<<63|3)
	outside := handFrame(7)
	pkru := handFrame(0x2ff)
	le.PutUint32(pkru[2688:], 0x55555554)
	s := map[string][]byte{
		"FuzzDecodeFrame/xfrm3_exinfo":      seedFile(frameSeed(handFrame(3), 576), uint64(3), exinfo),
		"FuzzDecodeFrame/xfrm_e7_exinfo":    seedFile(frameSeed(handFrame(0xe7), 2688), uint64(0xe7), exinfo),
		"FuzzDecodeFrame/xfrm_2ff_pkru":     seedFile(frameSeed(pkru, 2696), uint64(0x2ff), uint32(0)),
		"FuzzDecodeFrame/int3":              seedFile(frameSeed(int3, 576), uint64(3), uint32(0)),
		"FuzzDecodeFrame/exitinfo_reserved": seedFile(frameSeed(reserved, 576), uint64(3), exinfo),
		"FuzzDecodeFrame/compacted":         seedFile(frameSeed(compacted, 576), uint64(3), exinfo),
		"FuzzDecodeFrame/xstate_outside":    seedFile(frameSeed(outside, 576), uint64(3), exinfo),
		"FuzzDecodeFrame/init_state":        seedFile(frameSeed(handFrame(0), 2688), uint64(0xe7), exinfo|2),
		"FuzzGPRSGX/pf":                     seedFile(handFrame(3)[4096-184:]),
		"FuzzGPRSGX/int3":                   seedFile(int3[4096-184:]),
		"FuzzGPRSGX/exitinfo_reserved":      seedFile(reserved[4096-184:]),
		"FuzzGPRSGX/short":                  seedFile(handFrame(3)[4096-183:]),
		"FuzzXSave/xfrm3":                   seedFile(handFrame(3)[:576], uint64(3)),
		"FuzzXSave/xfrm_e7":                 seedFile(handFrame(0xe7)[:2688], uint64(0xe7)),
		"FuzzXSave/xfrm_2ff":                seedFile(pkru[:2696], uint64(0x2ff)),
		"FuzzXSave/init":                    seedFile(handFrame(0)[:2688], uint64(0xe7)),
		"FuzzXSave/compacted":               seedFile(compacted[:576], uint64(3)),
		"FuzzXSave/short":                   seedFile(handFrame(0xe7)[:2687], uint64(0xe7)),
	}
	return s
}

// TestFuzzSeeds keeps testdata/fuzz in step with fuzzSeeds (go test -update
// rewrites it) and checks that the valid seeds decode.
func TestFuzzSeeds(t *testing.T) {
	for name, want := range fuzzSeeds() {
		path := filepath.Join("testdata", "fuzz", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale (run go test -update)", path)
		}
	}
	g := Geometry{FrameSize: 1, MiscSelect: sgx.MiscEXINFO, XFRM: 0xe7}
	if _, err := DecodeFrame(fuzzFrame(frameSeed(handFrame(0xe7), 2688)), g, 0); err != nil {
		t.Errorf("xfrm_e7 seed does not decode: %v", err)
	}
}

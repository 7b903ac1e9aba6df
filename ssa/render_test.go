package ssa

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/sgxdbg/sgxdbg/sgx"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// renderCases are frames decoded from hand-built bytes, one per golden file.
func renderCases(t *testing.T) []struct {
	name string
	f    *Frame
	opts RenderOptions
} {
	t.Helper()
	dec := func(b []byte, g Geometry, i int) *Frame {
		f, err := DecodeFrame(b, g, i)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	pfGeom := Geometry{Base: 0x7f0000000000, OSSA: 0x3000, FrameSize: 1, MiscSelect: sgx.MiscEXINFO, XFRM: 0xe7}
	pf := dec(handFrame(0xe7), pfGeom, 0)

	int3Bytes := handFrame(3)
	le.PutUint32(int3Bytes[4072:], uint32(MakeExitInfo(sgx.VectorBP, sgx.ExitSoftware)))
	int3Bytes[4079] = 0 // AEXNOTIFY off
	int3 := dec(int3Bytes, Geometry{Base: 0x7f0000000000, OSSA: 0x3000, FrameSize: 1, XFRM: 3}, 1)

	gpBytes := handFrame(0)
	le.PutUint32(gpBytes[4072:], uint32(MakeExitInfo(sgx.VectorGP, sgx.ExitHardware)))
	le.PutUint64(gpBytes[3896:], 0)
	le.PutUint32(gpBytes[3904:], 0)
	gp := dec(gpBytes, Geometry{Base: 0x7f0000000000, OSSA: 0x3000, FrameSize: 1, MiscSelect: sgx.MiscEXINFO, XFRM: 3}, 0)

	irqBytes := handFrame(3)
	le.PutUint32(irqBytes[4072:], 0)
	copy(irqBytes[4076:4079], []byte{1, 2, 3})
	le.PutUint32(irqBytes[3908:], 9)
	irq := dec(irqBytes, Geometry{Base: 0x7f0000000000, OSSA: 0x3000, FrameSize: 1, MiscSelect: sgx.MiscEXINFO, XFRM: 3}, 1)

	return []struct {
		name string
		f    *Frame
		opts RenderOptions
	}{
		{"pf_epcm_xsave", pf, RenderOptions{XSave: true}},
		{"pf_epcm", pf, RenderOptions{}},
		{"int3", int3, RenderOptions{}},
		{"gp_init_xsave", gp, RenderOptions{XSave: true}},
		{"interrupt_stale_exinfo", irq, RenderOptions{XSave: true}},
	}
}

func TestRenderGolden(t *testing.T) {
	for _, c := range renderCases(t) {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := c.f.Render(&buf, c.opts); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("Render differs from %s:\n--- got\n%s--- want\n%s", path, buf.Bytes(), want)
			}
		})
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

var errFull = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestRenderWriteError(t *testing.T) {
	f := renderCases(t)[0].f
	for _, n := range []int{0, 100, 1000} {
		if err := f.Render(&failWriter{n: n}, RenderOptions{XSave: true}); !errors.Is(err, errFull) {
			t.Errorf("after %d bytes: err = %v, want errFull", n, err)
		}
	}
}

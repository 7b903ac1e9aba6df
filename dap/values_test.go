package dap

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	godap "github.com/google/go-dap"
)

func TestChildren(t *testing.T) {
	for _, tt := range []struct {
		parent, value string
		want          string // name=expr=value items, "|"-separated
	}{
		{"s", "{count = 3, values = {1, 2}}", "count=(s).count=3|values=(s).values={1, 2}"},
		{"a", "{1, 2, 3}", "[0]=(a)[0]=1|[1]=(a)[1]=2|[2]=(a)[2]=3"},
		{"a", "{7, 0 <repeats 2 times>}", "[0]=(a)[0]=7|[1]=(a)[1]=0|[2]=(a)[2]=0"},
		{"s", `{name = "a, b", c = 'x'}`, `name=(s).name="a, b"|c=(s).c='x'`},
		{"s", `{q = "\"}, {"}`, `q=(s).q="\"}, {"`},
		{"m", `"clean: summing 3 values", '\000' <repeats 40 times>`, ""},
		{"p", "0x7f00 <sym+4>", ""},
		{"e", "{}", ""},
		{"x", "{", ""},
	} {
		var got []string
		for _, c := range children(tt.parent, tt.value) {
			got = append(got, c.name+"="+c.expr+"="+c.value)
		}
		if g := strings.Join(got, "|"); g != tt.want {
			t.Errorf("children(%q, %q) = %q, want %q", tt.parent, tt.value, g, tt.want)
		}
	}
}

func TestChildrenBound(t *testing.T) {
	if n := len(children("a", "{0 <repeats 100000 times>}")); n != maxChildren {
		t.Errorf("children of 100000 repeats: %d, want %d", n, maxChildren)
	}
}

func TestPointerType(t *testing.T) {
	for _, tt := range []struct {
		typ  string
		want bool
	}{
		{"const struct ecall_args *", true},
		{"uint64_t *", true},
		{"char **", true},
		{"void *", false},
		{"const void *", false},
		{"int (*)(int)", false},
		{"uint64_t", false},
		{"struct s", false},
	} {
		if g := pointerType(tt.typ); g != tt.want {
			t.Errorf("pointerType(%q) = %v, want %v", tt.typ, g, tt.want)
		}
	}
}

// TestPFWords: the #PF description from the error code's bits (SDM Vol. 3A
// 4.7: P bit 0, W/R bit 1, U/S bit 2, I/D bit 4, SGX bit 15).
func TestPFWords(t *testing.T) {
	for _, tt := range []struct {
		errcd uint32
		want  string
	}{
		{0x4, "#PF reading 0x10000: page not present"},
		{0x6, "#PF writing 0x10000: page not present"},
		{0x7, "#PF writing 0x10000: protection violation"},
		{0x15, "#PF fetching 0x10000: protection violation"},
		{0x8005, "#PF reading 0x10000: protection violation (EPCM access check)"},
	} {
		if g := pfWords(0x10000, tt.errcd); g != tt.want {
			t.Errorf("pfWords(%#x) = %q, want %q", tt.errcd, g, tt.want)
		}
	}
}

func TestStepCommand(t *testing.T) {
	for _, tt := range []struct{ cmd, gran, want string }{
		{"next", "", "next"}, {"next", "line", "next"}, {"next", "statement", "next"}, {"next", "instruction", "nexti"},
		{"step", "", "step"}, {"step", "instruction", "stepi"},
	} {
		if g := stepCommand(tt.cmd, godap.SteppingGranularity(tt.gran)); g != tt.want {
			t.Errorf("stepCommand(%s, %q) = %s, want %s", tt.cmd, tt.gran, g, tt.want)
		}
	}
}

// FuzzChildren: any printed value splits without a panic, into at most
// maxChildren members whose expressions name the parent.
func FuzzChildren(f *testing.F) {
	for _, s := range []string{"{a = 1, b = {c = 2}}", "{1, 0 <repeats 13 times>}", `{s = "}\"{", t = '{'}`, "{{{", "}}}", "{0 <repeats 99999999999999999999 times>}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		cs := children("x", v)
		if len(cs) > maxChildren {
			t.Fatalf("%d children", len(cs))
		}
		for _, c := range cs {
			if !strings.HasPrefix(c.expr, "(x)") || c.name == "" {
				t.Fatalf("child %+v of %q", c, v)
			}
			if utf8.ValidString(v) && !utf8.ValidString(c.value) {
				t.Fatalf("child value %q of %q not UTF-8", c.value, v)
			}
		}
		_ = fmt.Sprint(splitTop(v))
	})
}

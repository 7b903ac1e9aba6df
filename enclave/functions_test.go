package enclave

import (
	"debug/elf"
	"reflect"
	"testing"
)

// Function ranges: sized STT_FUNC symbols inside the enclave, merged where
// they overlap or touch; everything else left out.
func TestFunctionRanges(t *testing.T) {
	fn := func(v, size uint64) elf.Symbol {
		return elf.Symbol{Name: "f", Info: elf.ST_INFO(elf.STB_GLOBAL, elf.STT_FUNC), Section: 1, Value: v, Size: size}
	}
	obj := elf.Symbol{Name: "o", Info: elf.ST_INFO(elf.STB_GLOBAL, elf.STT_OBJECT), Section: 1, Value: 0x100, Size: 0x10}
	undef := fn(0x300, 0x10)
	undef.Section = elf.SHN_UNDEF
	abs := fn(0x400, 0x10)
	abs.Section = elf.SHN_ABS
	list := []elf.Symbol{fn(0x2000, 0x10), fn(0x1000, 0x20), fn(0x1010, 0x30), fn(0x1040, 0x8), obj, undef, abs,
		fn(0x500, 0), fn(0xff00, 0x200), fn(^uint64(0)-4, 0x10), fn(0x3000, 0x10)}
	got := functionRanges(list, 0x10000)
	want := [][2]uint64{{0x1000, 0x1048}, {0x2000, 0x2010}, {0x3000, 0x3010}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("functionRanges = %#x, want %#x", got, want)
	}
}

package enclave

import (
	"debug/elf"
	"errors"
	"fmt"
	"sort"
)

// FunctionRanges returns the [start, end) enclave offsets of the image's
// sized function symbols (STT_FUNC in .symtab, else .dynsym), sorted and
// merged where they overlap or touch. Bytes outside them (data, constants,
// padding) are never code the emulator may rewrite. It returns
// ErrNoSymbols when the image has no such symbol.
func (im *Image) FunctionRanges() ([][2]uint64, error) {
	list, err := im.f.Symbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("read .symtab: %w", err)
	}
	rs := functionRanges(list, im.Size)
	if len(rs) == 0 {
		if list, err = im.f.DynamicSymbols(); err != nil && !errors.Is(err, elf.ErrNoSymbols) {
			return nil, fmt.Errorf("read .dynsym: %w", err)
		}
		rs = functionRanges(list, im.Size)
	}
	if len(rs) == 0 {
		return nil, ErrNoSymbols
	}
	return rs, nil
}

func functionRanges(list []elf.Symbol, size uint64) [][2]uint64 {
	var rs [][2]uint64
	for _, s := range list {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Size == 0 || s.Section == elf.SHN_UNDEF || s.Section >= elf.SHN_LORESERVE {
			continue
		}
		if s.Value >= size || s.Size > size-s.Value {
			continue // outside the enclave: not an enclave function
		}
		rs = append(rs, [2]uint64{s.Value, s.Value + s.Size})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i][0] < rs[j][0] })
	var out [][2]uint64
	for _, r := range rs {
		if n := len(out); n > 0 && r[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

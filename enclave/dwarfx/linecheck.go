package dwarfx

import (
	"encoding/binary"
	"fmt"
)

// LineTableError is a .debug_line unit whose header cannot be what it
// says: a count of directories or files that the unit's bytes cannot
// hold, an entry format that describes no bytes, a form a line table may
// not use, or a unit past the section's end.
type LineTableError struct {
	Off   int    // offset of the unit (or of the field) in the section
	Field string // "unit_length", "directories_count", ...
	Msg   string
}

// Error renders the LineTableError.
func (e *LineTableError) Error() string {
	return fmt.Sprintf(".debug_line at offset %#x: %s: %s", e.Off, e.Field, e.Msg)
}

// CheckLineSection checks the unit headers of a .debug_line section
// before Go's debug/dwarf reads them. Its LineReader trusts the DWARF 5
// directory and file counts: it allocates that many entries before
// reading any, and loops over them even when their format describes no
// bytes, so a few corrupted bytes make it allocate without bound (an
// out-of-memory crash no recover can catch) or spin for minutes (found by
// FuzzDWARFSections). CheckLineSection bounds each count by the bytes
// left in its unit and walks the entries with the forms DWARF 5 §6.2.4.1
// allows there.
func CheckLineSection(b []byte) error {
	for off := 0; off < len(b); {
		c := lineCursor{b: b, pos: off}
		length, dwarf64 := c.u32(), false
		if length == 0xffffffff {
			length, dwarf64 = c.u64(), true
		}
		if c.err != nil || length > uint64(len(b)-c.pos) {
			return &LineTableError{Off: off, Field: "unit_length", Msg: "past the end of the section"}
		}
		end := c.pos + int(length)
		c.b = b[:end]
		if err := c.header(off, dwarf64); err != nil {
			return err
		}
		off = end
	}
	return nil
}

// lineCursor reads a unit; err is set at the first read past its end.
type lineCursor struct {
	b   []byte
	pos int
	err error
}

func (c *lineCursor) need(n int) bool {
	if c.err == nil && (n < 0 || n > len(c.b)-c.pos) {
		c.err = fmt.Errorf("truncated")
	}
	return c.err == nil
}

func (c *lineCursor) u8() uint64 {
	if !c.need(1) {
		return 0
	}
	c.pos++
	return uint64(c.b[c.pos-1])
}

func (c *lineCursor) u16() uint64 {
	if !c.need(2) {
		return 0
	}
	c.pos += 2
	return uint64(binary.LittleEndian.Uint16(c.b[c.pos-2:]))
}

func (c *lineCursor) u32() uint64 {
	if !c.need(4) {
		return 0
	}
	c.pos += 4
	return uint64(binary.LittleEndian.Uint32(c.b[c.pos-4:]))
}

func (c *lineCursor) u64() uint64 {
	if !c.need(8) {
		return 0
	}
	c.pos += 8
	return binary.LittleEndian.Uint64(c.b[c.pos-8:])
}

func (c *lineCursor) uleb() uint64 {
	if c.err != nil {
		return 0
	}
	v, next, err := uleb(c.b, c.pos)
	if err != nil {
		c.err = err
		return 0
	}
	c.pos = next
	return v
}

func (c *lineCursor) skip(n int) { c.need(n); c.pos += min(n, len(c.b)-c.pos) }

// header checks one unit's header up to the end of its file names.
func (c *lineCursor) header(unit int, dwarf64 bool) error {
	bad := func(field, msg string) error { return &LineTableError{Off: unit, Field: field, Msg: msg} }
	version := c.u16()
	if version < 5 {
		return nil // directories and files are NUL-terminated lists, bounded by the bytes
	}
	c.skip(2) // address_size, segment_selector_size
	if dwarf64 {
		c.skip(8)
	} else {
		c.skip(4)
	}
	c.skip(5) // minimum_instruction_length … line_range
	opcodeBase := c.u8()
	c.skip(int(opcodeBase) - 1)
	if opcodeBase == 0 {
		return bad("opcode_base", "0")
	}
	for _, what := range []string{"directories", "file_names"} {
		nforms := c.u8()
		forms := make([]uint64, 0, nforms)
		for i := uint64(0); i < nforms; i++ {
			c.uleb() // content type
			forms = append(forms, c.uleb())
		}
		count := c.uleb()
		if c.err != nil {
			return bad(what+"_count", c.err.Error())
		}
		if count > 0 && nforms == 0 {
			return bad(what+"_count", fmt.Sprintf("%d entries with an empty entry format", count))
		}
		if count > uint64(len(c.b)-c.pos) {
			return bad(what+"_count", fmt.Sprintf("%d entries in %d bytes", count, len(c.b)-c.pos))
		}
		for i := uint64(0); i < count; i++ {
			for _, f := range forms {
				if err := c.form(f, dwarf64); err != nil {
					return bad(what, err.Error())
				}
			}
			if c.err != nil {
				return bad(what, c.err.Error())
			}
		}
	}
	return nil
}

// form skips one value of a form allowed in a line table entry; each
// takes at least one byte, so that a count bounded by the bytes left
// bounds the work.
func (c *lineCursor) form(f uint64, dwarf64 bool) error {
	offSize := 4
	if dwarf64 {
		offSize = 8
	}
	switch f {
	case 0x08: // DW_FORM_string
		for c.need(1) && c.b[c.pos] != 0 {
			c.pos++
		}
		c.skip(1)
	case 0x1f, 0x0e, 0x1d, 0x17: // line_strp, strp, strp_sup, sec_offset
		c.skip(offSize)
	case 0x0f, 0x1a: // udata, strx
		c.uleb()
	case 0x0b, 0x25: // data1, strx1
		c.skip(1)
	case 0x05, 0x26: // data2, strx2
		c.skip(2)
	case 0x27: // strx3
		c.skip(3)
	case 0x06, 0x28: // data4, strx4
		c.skip(4)
	case 0x07: // data8
		c.skip(8)
	case 0x1e: // data16
		c.skip(16)
	case 0x09: // block
		n := c.uleb()
		if n > uint64(len(c.b)) {
			return fmt.Errorf("block of %d bytes", n)
		}
		c.skip(int(n))
	default:
		return fmt.Errorf("form %#x not allowed in a line table entry", f)
	}
	return nil
}

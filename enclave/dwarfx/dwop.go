package dwarfx

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// DWARF expression opcodes this package looks at (DWARF 5 §7.7.1).
const (
	opConst8u      = 0x0e
	opBra          = 0x28
	opSkip         = 0x2f
	opReg0         = 0x50
	opReg31        = 0x6f
	opRegx         = 0x90
	opFbreg        = 0x91
	opPiece        = 0x93
	opBitPiece     = 0x9d
	opCallFrameCFA = 0x9c
	opEntryValue   = 0xa3
	opGNUEntry     = 0xf3
)

// dwOp is one decoded operation of a DWARF expression.
type dwOp struct {
	code byte
	raw  []byte // the whole operation, opcode included
	uarg uint64 // the first ULEB operand, where there is one
	sub  []byte // DW_OP_entry_value's sub-expression
}

func (o dwOp) isReg() bool { return o.code >= opReg0 && o.code <= opReg31 || o.code == opRegx }

func (o dwOp) regNum() int {
	if o.code == opRegx {
		return int(min(o.uarg, 1<<16))
	}
	return int(o.code - opReg0)
}

// Operand encodings.
const (
	argNone = iota
	arg1
	arg2
	arg4
	arg8
	argU      // ULEB128
	argS      // SLEB128
	argUS     // ULEB128, SLEB128
	argUU     // ULEB128, ULEB128
	argBlock  // ULEB128 length, bytes
	arg4S     // 4 bytes, SLEB128
	argU1B    // ULEB128, 1-byte length, bytes (DW_OP_const_type)
	arg1U     // 1 byte, ULEB128
	argUnknow // not an opcode
)

// opArgs gives the operand encoding of an opcode.
func opArgs(c byte) int {
	switch {
	case c >= 0x30 && c <= 0x6f: // lit, reg
		return argNone
	case c >= 0x70 && c <= 0x8f: // breg
		return argS
	}
	switch c {
	case 0x03, 0x0e, 0x0f: // addr, const8u, const8s
		return arg8
	case 0x06, 0x12, 0x13, 0x14, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
		0x20, 0x21, 0x22, 0x24, 0x25, 0x26, 0x27, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e,
		0x96, 0x97, 0x9b, 0x9c, 0x9f, 0xe0, 0xf0:
		return argNone
	case 0x08, 0x09, 0x15, 0x94, 0x95: // const1u/s, pick, deref_size, xderef_size
		return arg1
	case 0x0a, 0x0b, 0x28, 0x2f, 0x98: // const2u/s, bra, skip, call2
		return arg2
	case 0x0c, 0x0d, 0x99, 0x9a, 0xfa, 0xfd: // const4u/s, call4, call_ref, GNU_parameter_ref, GNU_variable_value
		return arg4
	case 0x10, 0x23, 0x90, 0x93, 0xa1, 0xa2, 0xa8, 0xa9, 0xf7, 0xf9, 0xfb, 0xfc:
		return argU
	case 0x11, 0x91: // consts, fbreg
		return argS
	case 0x92: // bregx
		return argUS
	case 0x9d, 0xa5, 0xf5: // bit_piece, regval_type
		return argUU
	case 0x9e, opEntryValue, opGNUEntry: // implicit_value, entry_value
		return argBlock
	case 0xa0, 0xf2: // implicit_pointer
		return arg4S
	case 0xa4, 0xf4: // const_type
		return argU1B
	case 0xa6, 0xa7, 0xf6: // deref_type, xderef_type
		return arg1U
	}
	return argUnknow
}

var errTruncatedOp = errors.New("truncated DWARF expression")

// uleb decodes a ULEB128 at b[i:], returning the value and the next index.
func uleb(b []byte, i int) (uint64, int, error) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if i >= len(b) {
			return 0, 0, errTruncatedOp
		}
		c := b[i]
		i++
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		if c&0x80 == 0 {
			return v, i, nil
		}
	}
}

// decodeOps splits a DWARF expression into operations.
func decodeOps(b []byte) ([]dwOp, error) {
	var ops []dwOp
	for i := 0; i < len(b); {
		start := i
		o := dwOp{code: b[i]}
		i++
		var err error
		need := func(n int) {
			if err == nil && (n < 0 || n > len(b)-i) {
				err = errTruncatedOp
			}
			if err == nil {
				i += n
			}
		}
		leb := func() uint64 {
			if err != nil {
				return 0
			}
			var v uint64
			v, i, err = uleb(b, i)
			return v
		}
		switch opArgs(o.code) {
		case argNone:
		case arg1:
			need(1)
		case arg2:
			need(2)
		case arg4:
			need(4)
		case arg8:
			need(8)
		case argU, argS:
			o.uarg = leb()
		case argUS, argUU:
			o.uarg = leb()
			leb()
		case argBlock:
			n := leb()
			if err == nil && n > uint64(len(b)-i) {
				err = errTruncatedOp
			}
			if err == nil {
				o.sub = b[i : i+int(n)]
				i += int(n)
			}
		case arg4S:
			need(4)
			leb()
		case argU1B:
			leb()
			if err == nil && i < len(b) {
				n := int(b[i])
				i++
				need(n)
			} else if err == nil {
				err = errTruncatedOp
			}
		case arg1U:
			need(1)
			leb()
		default:
			return nil, fmt.Errorf("unknown DWARF opcode %#x at offset %d", o.code, start)
		}
		if err != nil {
			return nil, fmt.Errorf("DWARF opcode %#x at offset %d: %w", o.code, start, err)
		}
		o.raw = b[start:i]
		ops = append(ops, o)
	}
	return ops, nil
}

// rewriteEntryValues returns the expression with each DW_OP_entry_value
// (and its GNU form) replaced by DW_OP_const8u of the value eval gives
// for its sub-expression, so that delve's op, which has no entry values,
// can run it. Branch offsets would move, so an expression with both
// entry values and branches is refused.
func rewriteEntryValues(ops []dwOp, eval func(sub []byte) (uint64, error)) ([]byte, error) {
	has, branches := false, false
	for _, o := range ops {
		has = has || o.code == opEntryValue || o.code == opGNUEntry
		branches = branches || o.code == opBra || o.code == opSkip
	}
	var out []byte
	for _, o := range ops {
		out = append(out, o.raw...)
	}
	if !has {
		return out, nil
	}
	if branches {
		return nil, errors.New("DW_OP_entry_value with branches is not supported")
	}
	out = out[:0]
	for _, o := range ops {
		if o.code != opEntryValue && o.code != opGNUEntry {
			out = append(out, o.raw...)
			continue
		}
		v, err := eval(o.sub)
		if err != nil {
			return nil, err
		}
		out = append(out, opConst8u)
		out = binary.LittleEndian.AppendUint64(out, v)
	}
	return out, nil
}

package dap

// refKind is what a variables reference or frame ID stands for.
type refKind int

const (
	refLocals    refKind = iota // info locals of a frame
	refArgs                     // info args of a frame
	refSSA                      // the registers of SSA frame n
	refSynthetic                // the registers the host sees
	refExpr                     // the children of an expression's value
)

// ref is one variables reference: valid until the host runs again.
type ref struct {
	kind  refKind
	tid   int
	frame int    // the backtrace frame (locals, args, expr)
	n     int    // refSSA: the SSA frame
	expr  string // refExpr
	value string // refExpr: its printed value
	typ   string // refExpr: its type
}

// frameRef is one stack frame ID.
type frameRef struct {
	tid   int
	index int // the backtrace's frame index; -1: a boundary label
}

// handles number the frames and variables of the current stop; they are
// forgotten when the host runs (IDs start at 1: 0 means none in DAP).
type handles struct {
	frames []frameRef
	refs   []ref
}

func (h *handles) reset() { h.frames, h.refs = nil, nil }

func (h *handles) frame(f frameRef) int {
	h.frames = append(h.frames, f)
	return len(h.frames)
}

func (h *handles) getFrame(id int) (frameRef, bool) {
	if id < 1 || id > len(h.frames) {
		return frameRef{}, false
	}
	return h.frames[id-1], true
}

func (h *handles) ref(r ref) int {
	h.refs = append(h.refs, r)
	return len(h.refs)
}

func (h *handles) getRef(id int) (ref, bool) {
	if id < 1 || id > len(h.refs) {
		return ref{}, false
	}
	return h.refs[id-1], true
}

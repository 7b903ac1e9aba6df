package sgx

// XSAVE state components (XCR0 / XFRM bit numbers).
const (
	XFeatureX87      = 0
	XFeatureSSE      = 1
	XFeatureAVX      = 2
	XFeatureBNDREGS  = 3
	XFeatureBNDCSR   = 4
	XFeatureOpmask   = 5
	XFeatureZMMHi256 = 6
	XFeatureHi16ZMM  = 7
	XFeaturePKRU     = 9
	XFeatureTILECFG  = 17 // AMX tile configuration
	XFeatureTILEDATA = 18 // AMX tile data
)

// XSaveLegacySize is the size of the legacy x87/SSE region plus the XSAVE
// header: the standard-format area is never smaller.
const XSaveLegacySize = 512 + 64

// XComponent is the place of one XSAVE state component in the standard
// (non-compacted) format.
type XComponent struct {
	Feature int // XFRM bit
	Off     int
	Size    int
}

// XSaveComponents lists the extended components in the standard format as
// laid out on SGX-capable (Intel) processors, CPUID leaf 0xD sub-leaves 2–9
// and, for AMX (Sapphire Rapids and later), 17–18.
// The offsets are the processor's, not architectural; the SSA of every
// SGX processor to date uses these.
var XSaveComponents = []XComponent{
	{XFeatureAVX, 576, 256},
	{XFeatureBNDREGS, 960, 64},
	{XFeatureBNDCSR, 1024, 64},
	{XFeatureOpmask, 1088, 64},
	{XFeatureZMMHi256, 1152, 512},
	{XFeatureHi16ZMM, 1664, 1024},
	{XFeaturePKRU, 2688, 8},
	{XFeatureTILECFG, 2752, 64},
	{XFeatureTILEDATA, 2816, 8192},
}

// XSaveSize returns the size of the standard-format XSAVE area holding the
// components in xfrm: the end of the highest component present, at least
// XSaveLegacySize.
func XSaveSize(xfrm uint64) int {
	n := XSaveLegacySize
	for _, c := range XSaveComponents {
		if xfrm&(1<<c.Feature) != 0 && c.Off+c.Size > n {
			n = c.Off + c.Size
		}
	}
	return n
}

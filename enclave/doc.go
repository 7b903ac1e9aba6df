// Package enclave reads enclave images: it turns an enclave ELF built to the
// image convention of enclaves/debug/README.md, or signed by the Intel SGX
// SDK (its `.note.sgxmeta` metadata, docs/runtimes.md), into the pages a
// loader adds (offset, SECINFO, measured or not, contents), the SECS
// parameters, the TCS list and the regions, computes the image's MRENCLAVE,
// and answers debug questions (symbols, source lines, backtraces) for the
// image loaded at a base address.
//
// It does no I/O beyond reading the image through an io.ReaderAt, and reads
// enclave memory only through the MemReader a caller passes to Unwind.
//
// # Security
//
// Images are untrusted input: a debugger opens whatever enclave a process
// loaded. NewImage checks every header, note and region before using it,
// bounds its allocations by the size of the file and of the enclave (a
// header cannot make it allocate more than the file holds plus MaxPages page
// descriptors), and reports a bad image as a *FormatError naming the field
// and its file offset. Debug information (symbol tables, DWARF line tables,
// call-frame information) is parsed lazily and is equally untrusted: a
// malformed table yields an error or no answer, never a panic. The unwinder
// bounds its walk by the frame count the caller gives and by the image.
package enclave

// Package sgx describes the Intel SGX architecture as Go types: the SECS,
// TCS, SECINFO, PAGEINFO, SIGSTRUCT and EINITTOKEN layouts, the ENCLU and
// ENCLS leaves, exception vectors and exit types, SGX error codes, the
// MRENCLAVE measurement, SIGSTRUCT signing and EINIT's checks, the REPORT,
// TARGETINFO and KEYREQUEST layouts with AES-CMAC and an emulated EGETKEY
// and EREPORT key hierarchy (KeyHierarchy), and the Linux driver's uapi
// (ioctl numbers and argument structs).
//
// It does no I/O. Layouts follow the Intel SDM Vol. 3D and SGX.md.
//
// # Security
//
// Decoders in this package accept untrusted bytes (SIGSTRUCTs from files,
// ioctl arguments, KEYREQUESTs and TARGETINFOs read from a traced process): every length and reserved
// field is checked and a bad input is reported as an error, never a panic.
package sgx

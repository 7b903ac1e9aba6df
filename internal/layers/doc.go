// Package layers holds the test that enforces sgxdbg's layering (DESIGN.md,
// "Layers"): which packages may import which. It has no code of its own.
package layers

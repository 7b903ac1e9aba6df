/* Test enclave code for package enclave's symbol, line and unwind tests.
 * The LINE: markers name the lines the tests expect; keep them on the
 * statements they mark. Built at -O0 so that every function keeps its
 * frame pointer and its calls. */

int counter = 5;
char scratch[5000];

__attribute__((noinline)) int leaf(int x)
{
	scratch[x] = (char)x; /* LINE:leaf-body */
	return x * 3;
}

__attribute__((noinline)) int middle(int x)
{
	int y = leaf(x + 1); /* LINE:middle-call */
	return y + 1;
}

__attribute__((noinline)) int outer(int x)
{
	int z = middle(x); /* LINE:outer-call */
	counter += z;
	return z;
}

#ifdef WITH_RELOC
/* An absolute pointer: a static PIE needs a dynamic relocation for it. */
int *counter_ptr = &counter;
#endif

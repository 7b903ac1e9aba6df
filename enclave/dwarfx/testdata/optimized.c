/* A tiny optimized program for dwarfx's fuzz seeds: location lists,
 * entry values and call sites (gcc -O2 -g), no libc. */
struct pair {
	long a, b;
};

long data[4] = {1, 2, 3, 4};
struct pair result;

__attribute__((noinline)) long sum(const long *v, long n)
{
	long s = 0;
	for (long i = 0; i < n; i++)
		s += v[i];
	return s;
}

__attribute__((noinline)) void store(struct pair *p, long a, long b)
{
	p->a = a;
	p->b = b;
}

void _start(void)
{
	long s = sum(data, 4);
	store(&result, s, sum(data + 1, 2));
	for (;;)
		;
}

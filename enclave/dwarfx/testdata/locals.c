/* A -O0 program for dwarfx's info args / info locals test against gdb:
 * a function with arguments, locals in nested blocks, a struct, an array
 * and pointers, stopped at the line marked BREAK. */
struct point {
	int x;
	int y;
};

int table[4] = {10, 20, 30, 40};

int inner(int a, long b, struct point p, const char *msg)
{
	int total = a;
	char buf[8] = "abc";
	struct point q = {p.y, p.x};
	int *tp = &table[1];

	for (int i = 0; i < 2; i++) {
		long sq = (long)i * i;
		total += (int)sq + *tp;
		if (i == 1) {
			short deep = 7;
			total += deep + msg[0] + q.x + buf[1]; /* BREAK */
		}
	}
	return total + (int)b;
}

int main(void)
{
	struct point p = {3, 4};
	return inner(5, -6, p, "zz") & 0x7f;
}

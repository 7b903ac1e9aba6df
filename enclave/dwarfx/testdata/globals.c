/* Globals with known values for dwarfx's print tests: built by the test
 * with gcc -g -O0 into a plain ELF, read through its .data. */
#include <stdint.h>

struct point {
	int x;
	int y;
};
enum color { RED, GREEN = 5, BLUE };
typedef struct point point_t;
union word {
	int i;
	unsigned char b[4];
};
struct rec {
	char name[8];
	struct point pt;
	struct point *next;
	enum color c;
	unsigned flags : 3;
	unsigned mode : 5;
	const char *label;
	double ratio;
	int arr[3];
	union word w;
};

int counter = 42;
long negative = -7;
unsigned long big = 0xffffffffffffffffUL;
char letter = 'A';
int numbers[5] = {1, 2, 3, 4, 5};
int zeros[16];
char greeting[16] = "hello";
struct point origin = {3, -4};
point_t *porigin = &origin;
struct point points[2] = {{1, 2}, {3, 4}};
enum color favorite = GREEN;
enum color unknown_color = (enum color)7;
const char *message = "hi there";
struct rec record = {"rec", {1, 2}, &origin, BLUE, 5, 17, "lbl", 1.5, {7, 8, 9}, {.i = 0x01020304}};
uint64_t u64 = 1234567890123ULL;
_Bool flag = 1;
char *nullp;

int square(int v)
{
	return v * v;
}

int (*pfn)(int) = square;

int main(void)
{
	return square(counter);
}

// A shared library for lazy_library_test: functions whose results show
// whether a trampoline's first call (through the resolver) delivered every
// argument register, the stack arguments and a variadic call's vector count.
#include <stdarg.h>

int vk_probe_counter = 42;  // a data symbol, found through LazyLibrarySymbol

long vk_probe_sum8(long a, long b, long c, long d, long e, long f, long g, long h) {
  return a + 10 * b + 100 * c + 1000 * d + 10000 * e + 100000 * f + 1000000 * g + 10000000 * h;
}

double vk_probe_doubles(double a, double b, double c, double d, double e, double f, double g,
                        double h, long i) {
  return a + 2 * b + 4 * c + 8 * d + 16 * e + 32 * f + 64 * g + 128 * h + 256 * i;
}

// Reads `count` doubles: their registers are saved by the prologue only when
// %al (the vector-register count) survived the resolver.
double vk_probe_vsum(int count, ...) {
  va_list args;
  va_start(args, count);
  double sum = 0;
  for (int i = 0; i < count; i++) sum += va_arg(args, double) * (i + 1);
  va_end(args);
  return sum;
}

int* vk_probe_counter_address(void) { return &vk_probe_counter; }

long vk_probe_threads(long x) { return x * 3; }

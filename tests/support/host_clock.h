/*
 * host_clock.h - the host's monotonic clock (CLOCK_MONOTONIC) for the
 * host tests' time limits and the benchmarks' timings, so no program
 * carries its own clock_gettime() wrapper.
 */
#ifndef HYPHAE_TESTS_SUPPORT_HOST_CLOCK_H
#define HYPHAE_TESTS_SUPPORT_HOST_CLOCK_H

#include <stdint.h>

/* Nanoseconds since an arbitrary fixed point.  Any thread. */
uint64_t host_now_ns(void);

/* The same in seconds. */
double host_now_s(void);

#endif /* HYPHAE_TESTS_SUPPORT_HOST_CLOCK_H */

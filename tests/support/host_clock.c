/*
 * host_clock.c - CLOCK_MONOTONIC for tests and benchmarks (host_clock.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "tests/support/host_clock.h"

uint64_t host_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double host_now_s(void)
{
	return (double)host_now_ns() / 1e9;
}

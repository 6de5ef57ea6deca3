/*
 * bench_util.h - timing helpers for the host benchmarks.
 *
 * Each benchmark runs BENCH_RUNS times and prints the median as
 * `NAME  NS ns/iter`, the format `make bench` collects.  Wall-clock time
 * from CLOCK_MONOTONIC; numbers depend on the machine, so they go in
 * docs/PERFORMANCE.md, never in a test.
 */
#ifndef HYPHAE_BENCH_UTIL_H
#define HYPHAE_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_RUNS	7

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Run fn BENCH_RUNS times (each returns ns per iteration); print median. */
static inline void bench_report(const char *name, double (*fn)(void *), void *arg)
{
	double r[BENCH_RUNS];

	for (int i = 0; i < BENCH_RUNS; i++)
		r[i] = fn(arg);
	qsort(r, BENCH_RUNS, sizeof(r[0]), bench_cmp);
	printf("%-32s %8.1f ns/iter\n", name, r[BENCH_RUNS / 2]);
	fflush(stdout);
}

#endif /* HYPHAE_BENCH_UTIL_H */

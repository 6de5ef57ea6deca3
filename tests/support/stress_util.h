/*
 * stress_util.h - shared bits of the pthread stress tests (stress_*.c).
 *
 * Iteration counts are bounded so `make test` stays fast on two busy
 * cores (TSan included); HYPHAE_SOAK=1 in the environment multiplies them
 * for a long soak run (make sched-soak).  Failures print and exit non-zero.
 */
#ifndef HYPHAE_TESTS_SUPPORT_STRESS_UTIL_H
#define HYPHAE_TESTS_SUPPORT_STRESS_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOAK_FACTOR	50

static inline unsigned long stress_scale(unsigned long base)
{
	const char *soak = getenv("HYPHAE_SOAK");

	if (soak && strcmp(soak, "0") != 0)
		return base * SOAK_FACTOR;
	return base;
}

#define STRESS_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s: ",		\
			__FILE__, __LINE__, #cond);			\
		fprintf(stderr, __VA_ARGS__);				\
		fprintf(stderr, "\n0 passed, 1 failed\n");		\
		exit(1);						\
	}								\
} while (0)

#endif /* HYPHAE_TESTS_SUPPORT_STRESS_UTIL_H */

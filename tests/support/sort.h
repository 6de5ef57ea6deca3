/*
 * sort.h - sorting a few samples for medians and percentiles, in tests and
 * benchmarks on either target (header-only and freestanding, so the
 * in-kernel tests use it too).  Insertion sort: the arrays are small.
 */
#ifndef HYPHAE_TESTS_SUPPORT_SORT_H
#define HYPHAE_TESTS_SUPPORT_SORT_H

#include <stddef.h>
#include <stdint.h>

static inline void sort_u64(uint64_t *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint64_t v = a[i];
		size_t j = i;

		for (; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

#endif /* HYPHAE_TESTS_SUPPORT_SORT_H */

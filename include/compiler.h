/*
 * compiler.h - compiler helpers shared by every part of hyphae.
 *
 * Portable code (lib, sched, timer, rt, shell) builds with GCC or Clang in
 * C11 for two targets: the freestanding x86_64 kernel and the host (tests,
 * benchmarks).  Nothing here depends on the target.
 */
#ifndef HYPHAE_COMPILER_H
#define HYPHAE_COMPILER_H

#include <stddef.h>

/* Each is guarded: the C library's <sys/cdefs.h> defines some on the host. */

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/* Expected failures return an error code the caller must look at. */
#ifndef __must_check
#define __must_check	__attribute__((warn_unused_result))
#endif
#ifndef __printf
#define __printf(f, a)	__attribute__((format(printf, f, a)))
#endif
#ifndef __unused
#define __unused	__attribute__((unused))
#endif
#ifndef __noinline
#define __noinline	__attribute__((noinline))
#endif
#ifndef __always_inline
#define __always_inline	inline __attribute__((always_inline))
#endif
#ifndef __packed
#define __packed	__attribute__((packed))
#endif
#ifndef __aligned
#define __aligned(n)	__attribute__((aligned(n)))
#endif
#ifndef __section
#define __section(s)	__attribute__((section(s)))
#endif
#ifndef __used
#define __used		__attribute__((used))
#endif

#define CACHE_LINE	64
#ifndef __cacheline_aligned
#define __cacheline_aligned	__aligned(CACHE_LINE)
#endif

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* The struct that embeds `member` at address `ptr`. */
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))

#endif /* HYPHAE_COMPILER_H */

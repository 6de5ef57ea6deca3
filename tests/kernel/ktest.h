/*
 * ktest.h - in-kernel tests: declare with KTEST(), check with KT_ASSERT*.
 *
 * KTEST(name) { ... } defines a test and places its descriptor in the
 * .ktest section (linker.ld); only hyphae-test.elf links tests/kernel/, and
 * its kernel_start() (ktest.c) runs every test at boot, on the boot core, in section
 * order, with interrupts disabled.  `ktest=NAME` on the multiboot2 command
 * line runs one test.  Output, one line per event, for the host driver
 * (tests/kernel/run-ktests):
 *     ktest: start NAME
 *     ktest: pass NAME [(expected <what>)]
 *     ktest: fail NAME: FILE:LINE: <assertion text>
 *     ktest: N passed, N failed
 * then QEMU exits through isa-debug-exit (status 1: all passed, 3: not).
 *
 * A test that must fault declares it first: ktest_expect_fault(vector) or
 * ktest_expect_page_fault(...), ktest_expect_panic(substring).  When the
 * CPU exception (or panic) comes, the kernel prints its full report as
 * always, then the harness checks it against the expectation, prints pass
 * or fail, and resumes itself: it rewrites the trap frame so `iretq` lands
 * back in the harness (as longjmp would), on the harness's stack, and goes
 * on with the next test.  This works for a #DF after a stack overflow too:
 * the #DF runs on its IST stack, and the overflowed stack below the
 * harness's frame is simply abandoned.  An exception or panic that was not
 * expected fails the test and ends the run (summary, exit): the machine
 * state is no longer trusted.  Details: tests/kernel/README.
 */
#ifndef HYPHAE_TESTS_KERNEL_KTEST_H
#define HYPHAE_TESTS_KERNEL_KTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "clock.h"
#include "compiler.h"

struct mb2_info;

struct ktest {
	const char *name;
	void (*fn)(void);
	const char *file;
	int line;
};

#define KTEST(tname)							\
	static void ktest_fn_##tname(void);				\
	static const struct ktest ktest_desc_##tname			\
		__used __section(".ktest") __aligned(8) = {		\
		.name = #tname, .fn = ktest_fn_##tname,			\
		.file = __FILE__, .line = __LINE__,			\
	};								\
	static void ktest_fn_##tname(void)

/* Fail the running test with a message and go on with the next test. */
_Noreturn void ktest_fail(const char *file, int line, const char *fmt, ...)
	__printf(3, 4);

#define KT_ASSERT(expr)							\
	((expr) ? (void)0 : ktest_fail(__FILE__, __LINE__, "%s", #expr))

#define KT_ASSERT_EQ(a, b)						\
	do {								\
		unsigned long long a_ = (unsigned long long)(a);	\
		unsigned long long b_ = (unsigned long long)(b);	\
		if (a_ != b_)						\
			ktest_fail(__FILE__, __LINE__,			\
				   "%s == %s (0x%llx != 0x%llx)",	\
				   #a, #b, a_, b_);			\
	} while (0)

/* Nanoseconds on the kernel's clock, for the tests' time limits. */
static inline uint64_t kt_now_ns(void)
{
	return clock_now(arch_clock());
}

/* The running test must end in CPU exception `vector` (any address). */
void ktest_expect_fault(unsigned vector);

/*
 * The running test must end in a #PF at an address in [lo, hi) whose error
 * code has (err & err_mask) == err_bits.
 */
void ktest_expect_page_fault(uintptr_t lo, uintptr_t hi, uint64_t err_mask,
			     uint64_t err_bits);

/* The running test must end in a #DF with CR2 in [lo, hi) (stack guard). */
void ktest_expect_double_fault(uintptr_t lo, uintptr_t hi);

/* The running test must end in a panic whose message contains `text`. */
void ktest_expect_panic(const char *text);

/* The boot information (memory map, command line) of this boot. */
const struct mb2_info *ktest_boot_info(void);

/* ISA debug-exit port (QEMU -device isa-debug-exit,iobase=0xf4). */
#define KTEST_EXIT_PORT		0xf4
#define KTEST_EXIT_PASS		0	/* QEMU exits with (0 << 1) | 1 = 1 */
#define KTEST_EXIT_FAIL		1	/* QEMU exits with (1 << 1) | 1 = 3 */

#endif /* HYPHAE_TESTS_KERNEL_KTEST_H */

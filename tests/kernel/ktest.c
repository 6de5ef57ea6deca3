/*
 * ktest.c - the in-kernel test harness (see ktest.h for the protocol).
 *
 * In hyphae-test.elf this file's kernel_start() takes the place of the
 * kernel's (kernel/start.c is not linked).  Each test runs below a
 * ktest_setjmp() in run_one(); a failed assertion longjmps back, an
 * expected exception resumes there through its trap frame (the fault
 * hook ktest_on_fault), an expected panic longjmps from the panic path
 * (the panic hook ktest_on_panic).  Everything the resumption path reads is global, as
 * after a longjmp locals of run_one() are not to be trusted.
 */
#include <stdarg.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/multiboot2.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/x86.h"
#include "kernel/kernel.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "tests/kernel/ktest.h"

#define KTEST_NAME_MAX	64
#define RFLAGS_RESERVED	(1ull << 1)	/* always 1 */

struct ktest_jmp {
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};

int ktest_setjmp(struct ktest_jmp *buf) __attribute__((returns_twice));
_Noreturn void ktest_longjmp(struct ktest_jmp *buf, int val);

enum expect_kind { EXPECT_NOTHING, EXPECT_FAULT, EXPECT_PANIC };

struct expectation {
	enum expect_kind kind;
	unsigned vector;
	bool check_addr;		/* CR2 must be in [lo, hi) */
	uintptr_t lo, hi;
	uint64_t err_mask, err_bits;
	const char *text;		/* panic message substring */
};

extern const struct ktest __ktest_start[], __ktest_end[];

static const struct mb2_info *boot_info;
static struct ktest_jmp resume;
static const struct ktest *current;
static struct expectation expect;
static unsigned passed, failed;

const struct mb2_info *ktest_boot_info(void)
{
	return boot_info;
}

static _Noreturn void qemu_exit(uint8_t code)
{
	outb(KTEST_EXIT_PORT, code);
	/* No debug-exit device (e.g. a real machine): just stop. */
	halt_forever();
}

static _Noreturn void finish(void)
{
	kprintf("ktest: %u passed, %u failed\n", passed, failed);
	qemu_exit(failed ? KTEST_EXIT_FAIL : KTEST_EXIT_PASS);
}

static bool contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncmp(hay, needle, n) == 0)
			return true;
	return n == 0;
}

void ktest_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[PANIC_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kprintf("ktest: fail %s: %s:%d: %s\n", current ? current->name : "?",
		file, line, msg);
	failed++;
	if (!current)
		finish();
	ktest_longjmp(&resume, 1);
}

void ktest_expect_fault(unsigned vector)
{
	expect = (struct expectation){ .kind = EXPECT_FAULT, .vector = vector };
}

void ktest_expect_page_fault(uintptr_t lo, uintptr_t hi, uint64_t err_mask,
			     uint64_t err_bits)
{
	expect = (struct expectation){
		.kind = EXPECT_FAULT, .vector = TRAP_PF, .check_addr = true,
		.lo = lo, .hi = hi, .err_mask = err_mask, .err_bits = err_bits,
	};
}

void ktest_expect_double_fault(uintptr_t lo, uintptr_t hi)
{
	expect = (struct expectation){
		.kind = EXPECT_FAULT, .vector = TRAP_DF, .check_addr = true,
		.lo = lo, .hi = hi,
	};
}

void ktest_expect_panic(const char *text)
{
	expect = (struct expectation){ .kind = EXPECT_PANIC, .text = text };
}

/* Why f does not match the expectation, or NULL if it does. */
static const char *fault_mismatch(const struct trap_frame *f, uint64_t cr2)
{
	if (expect.kind != EXPECT_FAULT)
		return "no fault was expected";
	if (f->vector != expect.vector)
		return "a different exception was expected";
	if (expect.check_addr && (cr2 < expect.lo || cr2 >= expect.hi))
		return "CR2 outside the expected range";
	if ((f->error & expect.err_mask) != expect.err_bits)
		return "error code differs from the expected one";
	return NULL;
}

static bool ktest_on_fault(struct trap_frame *f)
{
	uint64_t cr2 = read_cr2();
	const char *why;

	if (!current) {
		kprintf("ktest: fault outside any test\n");
		failed++;
		finish();
	}
	why = fault_mismatch(f, cr2);
	if (why) {
		kprintf("ktest: fail %s: unexpected %s at rip 0x%llx, cr2 0x%llx "
			"(%s); stopping\n", current->name, trap_name((unsigned)f->vector),
			(unsigned long long)f->rip, (unsigned long long)cr2, why);
		failed++;
		finish();
	}
	kprintf("ktest: pass %s (expected fault: %s)\n", current->name,
		trap_name((unsigned)f->vector));
	passed++;
	expect.kind = EXPECT_NOTHING;
	fault_recovered();
	/* Whatever the test left armed or held on this core is abandoned. */
	poll_guard_reset();
	/* "Return" from ktest_setjmp() with 1, through iretq. */
	f->rbx = resume.rbx;
	f->rbp = resume.rbp;
	f->r12 = resume.r12;
	f->r13 = resume.r13;
	f->r14 = resume.r14;
	f->r15 = resume.r15;
	f->rsp = resume.rsp;
	f->rip = resume.rip;
	f->rax = 1;
	f->rflags = RFLAGS_RESERVED;	/* interrupts stay off */
	f->cs = SEL_KCODE;
	f->ss = SEL_KDATA;
	return true;
}

static void ktest_on_panic(const char *msg)
{
	if (!current) {
		kprintf("ktest: panic outside any test\n");
		failed++;
		finish();
	}
	if (expect.kind != EXPECT_PANIC || !contains(msg, expect.text)) {
		kprintf("ktest: fail %s: unexpected panic: %s; stopping\n",
			current->name, msg);
		failed++;
		finish();
	}
	kprintf("ktest: pass %s (expected panic)\n", current->name);
	passed++;
	expect.kind = EXPECT_NOTHING;
	fault_recovered();
	poll_guard_reset();
	ktest_longjmp(&resume, 1);
}

static void run_one(const struct ktest *t)
{
	current = t;
	expect.kind = EXPECT_NOTHING;
	kprintf("ktest: start %s\n", t->name);
	if (ktest_setjmp(&resume) == 0) {
		t->fn();
		if (expect.kind != EXPECT_NOTHING) {
			kprintf("ktest: fail %s: %s:%d: the expected %s did not happen\n",
				t->name, t->file, t->line,
				expect.kind == EXPECT_FAULT ? trap_name(expect.vector)
							    : "panic");
			failed++;
		} else {
			kprintf("ktest: pass %s\n", t->name);
			passed++;
		}
	}
	/* Whatever the test did to interrupts, the next one starts clean. */
	arch_irq_disable();
	current = NULL;
}

/* Source order (file, then line), which the section does not keep. */
static bool before(const struct ktest *a, const struct ktest *b)
{
	int c = strcmp(a->file, b->file);

	return c < 0 || (c == 0 && a->line < b->line);
}

/* The test after `prev` in source order (the first when prev is NULL). */
static const struct ktest *next_test(const struct ktest *prev)
{
	const struct ktest *best = NULL;

	for (const struct ktest *t = __ktest_start; t < __ktest_end; t++)
		if ((!prev || before(prev, t)) && (!best || before(t, best)))
			best = t;
	return best;
}

void kernel_start(const struct mb2_info *mb)
{
	char only[KTEST_NAME_MAX];
	bool one = cmdline_get(mb->cmdline, "ktest", only, sizeof(only)) > 0;
	unsigned ran = 0;

	boot_info = mb;
	arch_irq_disable();
	trap_set_fault_hook(ktest_on_fault);
	panic_set_hook(ktest_on_panic);
	kprintf("ktest: %u tests%s%s\n", (unsigned)(__ktest_end - __ktest_start),
		one ? ", running only " : "", one ? only : "");
	for (const struct ktest *t = NULL; (t = next_test(t)) != NULL;) {
		if (one && strcmp(t->name, only) != 0)
			continue;
		run_one(t);
		ran++;
	}
	if (one && ran == 0) {
		kprintf("ktest: fail %s: no such test\n", only);
		failed++;
	}
	finish();
}

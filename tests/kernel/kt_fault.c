/*
 * kt_fault.c - in-kernel tests of page permissions, the fault report and
 * panics: each deliberately breaks something and declares what the CPU
 * (or the kernel) must answer.  The harness checks the exception vector,
 * CR2 and error code; the host driver checks that the report was printed.
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ksyms.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/x86.h"
#include "kmalloc.h"
#include "lib/string.h"
#include "panic.h"
#include "tests/kernel/ktest.h"

#define X86_RET		0xc3
#define OVERFLOW_FRAME	256

extern uint8_t __text_start[], __rodata_start[], __data_start[];
extern uintptr_t __stack_chk_guard;
extern uint8_t boot_stack_guard[];

static const char rodata_probe[] = "read-only";
static int data_probe = 1;
/* Volatile so the compiler cannot see through the deliberate bugs. */
static volatile uintptr_t volatile_zero;
static volatile unsigned recursion_stop = UINT32_MAX;

static bool lookup(const void *p, uint64_t *e)
{
	size_t size;

	return paging_lookup((uintptr_t)p, e, &size);
}

KTEST(page_permissions_by_section)
{
	uint64_t e;

	KT_ASSERT(lookup((void *)(uintptr_t)ktest_boot_info, &e));
	KT_ASSERT(!(e & PTE_WRITE));
	KT_ASSERT(!(e & PTE_NX));
	KT_ASSERT(lookup(rodata_probe, &e));
	KT_ASSERT(!(e & PTE_WRITE));
	KT_ASSERT(!cpu_has_nx() || (e & PTE_NX));
	KT_ASSERT(lookup(&data_probe, &e));
	KT_ASSERT(e & PTE_WRITE);
	KT_ASSERT(!cpu_has_nx() || (e & PTE_NX));
	/* The null page and the boot stack's guard are not mapped. */
	KT_ASSERT(!lookup((void *)(uintptr_t)volatile_zero, &e));
	KT_ASSERT(!lookup(boot_stack_guard, &e));
	/* The guard lies right below the stack we run on. */
	KT_ASSERT_EQ((uintptr_t)boot_stack_guard + PAGE_SIZE, this_cpu()->stack.bottom);
	/* Heap memory is writable and not executable. */
	{
		void *p = kmalloc(64);

		KT_ASSERT(p != NULL);
		KT_ASSERT(lookup(p, &e));
		KT_ASSERT(e & PTE_WRITE);
		KT_ASSERT(!cpu_has_nx() || (e & PTE_NX));
		kfree(p);
	}
}

KTEST(write_to_text_faults)
{
	volatile uint8_t *text = (volatile uint8_t *)(uintptr_t)ktest_boot_info;

	ktest_expect_page_fault((uintptr_t)text, (uintptr_t)text + 1,
				PF_PRESENT | PF_WRITE, PF_PRESENT | PF_WRITE);
	*text = X86_RET;
}

KTEST(write_to_rodata_faults)
{
	volatile char *p = (volatile char *)(uintptr_t)rodata_probe;

	ktest_expect_page_fault((uintptr_t)p, (uintptr_t)p + 1,
				PF_PRESENT | PF_WRITE, PF_PRESENT | PF_WRITE);
	p[0] = 'X';
}

KTEST(execute_heap_faults_nx)
{
	uint8_t *code = kmalloc_aligned(64, 64);
	void (*fn)(void);

	KT_ASSERT(code != NULL);
	KT_ASSERT(cpu_has_nx());	/* QEMU -cpu max has it */
	code[0] = X86_RET;
	fn = (void (*)(void))(uintptr_t)code;
	ktest_expect_page_fault((uintptr_t)code, (uintptr_t)code + 1,
				PF_FETCH, PF_FETCH);
	fn();
}

KTEST(null_dereference_page_fault)
{
	ktest_expect_page_fault(0, 8, PF_PRESENT | PF_WRITE, 0);
	(void)*(volatile uint64_t *)volatile_zero;
}

KTEST(unmapped_address_page_fault)
{
	/* Far above the identity map (which ends at 4 GiB here). */
	volatile uint64_t *p = (volatile uint64_t *)0x00007f0000001000ull;

	ktest_expect_page_fault((uintptr_t)p, (uintptr_t)p + 8,
				PF_PRESENT | PF_WRITE, PF_WRITE);
	*p = 42;
}

KTEST(kstack_guard_page_faults)
{
	struct cpu_stack s;
	uint64_t e;

	KT_ASSERT_EQ(kstack_alloc(&s), 0);
	KT_ASSERT_EQ(s.top - s.bottom, KSTACK_SIZE);
	KT_ASSERT(!lookup((void *)(s.bottom - 1), &e));
	KT_ASSERT(lookup((void *)s.bottom, &e));
	KT_ASSERT(e & PTE_WRITE);
	*(volatile uint64_t *)s.bottom = 1;
	*(volatile uint64_t *)(s.top - 8) = 1;
	ktest_expect_page_fault(s.bottom - PAGE_SIZE, s.bottom, PF_PRESENT, 0);
	*(volatile uint64_t *)(s.bottom - 8) = 1;
}

KTEST(kstack_alloc_free_restores_frames)
{
	size_t before = mm_free_frames_count();
	struct cpu_stack s;
	uint64_t e;

	KT_ASSERT_EQ(kstack_alloc(&s), 0);
	KT_ASSERT(mm_free_frames_count() < before);
	kstack_free(&s);
	KT_ASSERT_EQ(mm_free_frames_count(), before);
	/* The guard page is mapped again before it returns to the pool. */
	KT_ASSERT(lookup((void *)(s.bottom - PAGE_SIZE), &e));
}

KTEST(invalid_opcode_report)
{
	ktest_expect_fault(TRAP_UD);
	__asm__ volatile("ud2");
}

KTEST(breakpoint_report)
{
	ktest_expect_fault(TRAP_BP);
	__asm__ volatile("int3");
}

KTEST(divide_error_report)
{
	volatile unsigned d = (unsigned)volatile_zero;

	ktest_expect_fault(TRAP_DE);
	d = 100 / d;
	(void)d;
}

KTEST(general_protection_report)
{
	/* A non-canonical address is #GP, not #PF. */
	ktest_expect_fault(TRAP_GP);
	(void)*(volatile uint64_t *)0x8000000000000000ull;
}

static __noinline unsigned recurse(unsigned depth)
{
	volatile uint8_t frame[OVERFLOW_FRAME];

	frame[0] = (uint8_t)depth;
	if (depth == recursion_stop)
		return 0;
	return recurse(depth + 1) + frame[0];
}

KTEST(stack_overflow_double_fault)
{
	uintptr_t guard = this_cpu()->stack.bottom - PAGE_SIZE;

	/* Running into the guard page is a #PF that cannot be delivered on
	 * the same stack: a #DF, on its IST stack, with CR2 in the guard. */
	ktest_expect_double_fault(guard, guard + PAGE_SIZE);
	(void)recurse(0);
}

KTEST(panic_is_reported)
{
	ktest_expect_panic("kt_fault: deliberate panic 42");
	panic("kt_fault: deliberate panic %d", 42);
}

KTEST(kassert_is_reported)
{
	volatile int one = 1;

	ktest_expect_panic("assertion failed: one == 2");
	kassert(one == 2);
}

static __noinline void smash_the_stack(volatile size_t n)
{
	char buf[16];

	memset(buf, 'A', n);
	__asm__ volatile("" : : "r"(buf) : "memory");
}

KTEST(stack_protector_names_function)
{
	KT_ASSERT(__stack_chk_guard != 0x595e9fbd94fda766ull);
	KT_ASSERT_EQ(__stack_chk_guard & 0xff, 0);
	smash_the_stack(8);	/* in bounds: fine */
	ktest_expect_panic("stack smashed in smash_the_stack");
	smash_the_stack(64);
}

KTEST(ksyms_names_functions)
{
	const char *name;
	uint64_t off;
	uint64_t addr = (uint64_t)(uintptr_t)ktest_boot_info;

	KT_ASSERT(ksyms_lookup(addr, &name, &off));
	KT_ASSERT(strcmp(name, "ktest_boot_info") == 0);
	KT_ASSERT_EQ(off, 0);
	KT_ASSERT(ksyms_lookup(addr + 1, &name, &off));
	KT_ASSERT_EQ(off, 1);
	KT_ASSERT_EQ(ksyms_address("ktest_boot_info"), addr);
	KT_ASSERT(!ksyms_lookup(0x1000, &name, &off));
}

KTEST(fault_state_cleared_after_recovery)
{
	/* Runs after the fault and panic tests above: each resumption must
	 * have left the fault state, or the console would stay unlocked. */
	KT_ASSERT_EQ(this_cpu()->fault_depth, 0);
	KT_ASSERT(!(read_rflags() & RFLAGS_IF));
}

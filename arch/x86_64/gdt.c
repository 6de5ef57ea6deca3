/*
 * gdt.c - each core's GDT and TSS.
 *
 * Long mode ignores segment bases and limits, but still needs a 64-bit code
 * descriptor, a data descriptor for SS/DS, and a TSS whose IST slots give
 * #DF, NMI and #MC known-good stacks: a double fault caused by a kernel
 * stack overflow must not push its frame onto the overflowed stack.  Each
 * core has its own GDT (the TSS descriptor's busy bit is per GDT entry) and
 * TSS, inside its struct cpu.  Reference: Intel SDM vol. 3 sections 3.4.5
 * (segment descriptors), 7.2.3 (TSS descriptor in 64-bit mode), 7.7.
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"

/* Descriptor bits (high dword of a code/data descriptor, shifted to 64). */
#define DESC_ACCESSED	(1ull << 40)
#define DESC_RW		(1ull << 41)	/* data: writable; code: readable */
#define DESC_EXEC	(1ull << 43)
#define DESC_CODE_DATA	(1ull << 44)	/* S: not a system descriptor */
#define DESC_PRESENT	(1ull << 47)
#define DESC_LONG	(1ull << 53)	/* L: 64-bit code */
#define DESC_DB		(1ull << 54)	/* 32-bit default size (data) */
#define DESC_GRAN_4K	(1ull << 55)
#define DESC_LIMIT_MAX	(0xffffull | (0xfull << 48))

#define DESC_TYPE_TSS64	(0x9ull << 40)	/* available 64-bit TSS */

#define GDT_CODE64	(DESC_LIMIT_MAX | DESC_ACCESSED | DESC_RW | DESC_EXEC | \
			 DESC_CODE_DATA | DESC_PRESENT | DESC_LONG | DESC_GRAN_4K)
#define GDT_DATA	(DESC_LIMIT_MAX | DESC_ACCESSED | DESC_RW | \
			 DESC_CODE_DATA | DESC_PRESENT | DESC_DB | DESC_GRAN_4K)

/* No I/O permission bitmap: the base points past the TSS limit. */
#define TSS_NO_IOMAP	((uint16_t)sizeof(struct tss))

struct gdt_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

static void tss_descriptor(uint64_t out[2], const struct tss *tss)
{
	uint64_t base = (uint64_t)(uintptr_t)tss;
	uint64_t limit = sizeof(*tss) - 1;

	out[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
		 DESC_TYPE_TSS64 | DESC_PRESENT |
		 ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	out[1] = base >> 32;
}

void gdt_init_cpu(struct cpu *c)
{
	struct gdt_ptr ptr;

	c->gdt[GDT_NULL] = 0;
	c->gdt[GDT_KCODE] = GDT_CODE64;
	c->gdt[GDT_KDATA] = GDT_DATA;
	c->tss = (struct tss){ .iomap_base = TSS_NO_IOMAP };
	for (unsigned i = 0; i < IST_COUNT; i++)
		c->tss.ist[i] = c->ist[i].top;	/* tss.ist[0] is IST1 */
	tss_descriptor(&c->gdt[GDT_TSS], &c->tss);

	ptr.limit = sizeof(c->gdt) - 1;
	ptr.base = (uint64_t)(uintptr_t)c->gdt;
	/* Reload CS with a far return, then the data segments.  FS/GS stay
	 * null: their bases come from MSRs (GS base is the struct cpu). */
	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movw %w2, %%ax\n\t"
		"movw %%ax, %%ds\n\t"
		"movw %%ax, %%es\n\t"
		"movw %%ax, %%ss\n\t"
		"ltr %w3"
		:
		: "m"(ptr), "i"(SEL_KCODE), "r"((uint32_t)SEL_KDATA),
		  "r"((uint32_t)SEL_TSS)
		: "rax", "memory");
}

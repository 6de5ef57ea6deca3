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

#include "arch.h"
#include "arch/x86_64/cpu.h"
#include "lib/fmt.h"

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

/* Decoding a descriptor (gdt_dump). */
#define DESC_TYPE_SHIFT		40
#define DESC_TYPE_MASK		0xfull
#define DESC_TYPE_TSS_AVAIL	0x9
#define DESC_TYPE_TSS_BUSY	0xb
#define DESC_DPL_SHIFT		45
#define DESC_DPL_MASK		3u
/* A system descriptor's base: bits 16-39 and 56-63, then the next slot. */
#define DESC_BASE_LO_SHIFT	16
#define DESC_BASE_LO_MASK	0xffffffull
#define DESC_BASE_MID_SHIFT	56
#define DESC_BASE_MID_POS	24

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

void gdt_dump(const struct fmt_out *out)
{
	struct gdt_ptr p;
	const uint64_t *gdt;
	unsigned n;

	__asm__ volatile("sgdt %0" : "=m"(p));
	gdt = (const uint64_t *)(uintptr_t)p.base;
	n = (p.limit + 1u) / sizeof(uint64_t);
	fmt_printf(out, "gdt on cpu%u: base 0x%llx, limit 0x%x (%u slots)\n",
		   arch_cpu_index(), (unsigned long long)p.base, p.limit, n);
	for (unsigned i = 0; i < n; i++) {
		uint64_t d = gdt[i];
		unsigned type = (unsigned)(d >> DESC_TYPE_SHIFT) & DESC_TYPE_MASK;
		unsigned dpl = (unsigned)(d >> DESC_DPL_SHIFT) & DESC_DPL_MASK;

		if (!(d & DESC_PRESENT)) {
			fmt_printf(out, "  %2u 0x%04x  0x%016llx  %s\n", i, i * 8,
				   (unsigned long long)d, d ? "not present" : "null");
			continue;
		}
		if (d & DESC_CODE_DATA) {
			fmt_printf(out, "  %2u 0x%04x  0x%016llx  %s%s, DPL %u%s\n", i,
				   i * 8, (unsigned long long)d,
				   d & DESC_EXEC ? "code" : "data",
				   (d & DESC_EXEC) && (d & DESC_LONG) ? " (64-bit)" : "",
				   dpl, d & DESC_ACCESSED ? ", accessed" : "");
		} else if ((type == DESC_TYPE_TSS_AVAIL || type == DESC_TYPE_TSS_BUSY) &&
			   i + 1 < n) {
			uint64_t base = ((d >> DESC_BASE_LO_SHIFT) & DESC_BASE_LO_MASK) |
					((d >> DESC_BASE_MID_SHIFT) << DESC_BASE_MID_POS) |
					(gdt[i + 1] << 32);

			fmt_printf(out, "  %2u 0x%04x  0x%016llx  TSS (%s), base 0x%llx\n",
				   i, i * 8, (unsigned long long)d,
				   type == DESC_TYPE_TSS_BUSY ? "busy" : "available",
				   (unsigned long long)base);
			i++;	/* the upper half of the 16-byte descriptor */
		} else {
			fmt_printf(out, "  %2u 0x%04x  0x%016llx  system type 0x%x\n",
				   i, i * 8, (unsigned long long)d, type);
		}
	}
}

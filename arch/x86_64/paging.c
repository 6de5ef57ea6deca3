/*
 * paging.c - build and edit the kernel's page tables (see paging.h).
 *
 * The tables are built once, while the early 4 GiB identity map from
 * boot.asm is live: new table pages come from the frame allocator, whose
 * lowest-first policy keeps them below 4 GiB where they are reachable.
 * Intermediate entries are always present+writable+executable; the leaf
 * decides.  Splitting a 2 MiB page copies its flags into 512 4 KiB
 * entries, then the TLB is flushed by reloading CR3 (no global pages).
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/x86.h"
#include "errno.h"
#include "lib/log.h"
#include "lib/string.h"
#include "panic.h"
#include "spinlock.h"

#define ENTRIES		512
#define LARGE_SIZE	(2ull * 1024 * 1024)
#define LEVEL_SHIFT(l)	(PAGE_SHIFT + 9 * (l))	/* l = 0 (PT) .. 3 (PML4) */
#define INDEX(va, l)	(((va) >> LEVEL_SHIFT(l)) & (ENTRIES - 1))
#define TABLE_FLAGS	(PTE_PRESENT | PTE_WRITE)
#define CANONICAL_LOW_END (1ull << 47)	/* end of the lower address half */

/* Symbols from linker.ld. */
extern uint8_t __text_start[], __text_end[];
extern uint8_t __rodata_start[], __rodata_end[];
extern uint8_t __data_start[], __data_end[];
extern uint8_t __ksyms_start[], _kernel_end[];
extern uint8_t __kstacks_start[], __kstacks_end[];

static uint64_t *pml4;
static uint64_t map_limit;
static uint64_t nx_bit;		/* PTE_NX when the CPU has NX, else 0 */
static struct spinlock pt_lock = SPINLOCK_INIT;

static uint64_t *table_at(uint64_t entry)
{
	return (uint64_t *)(uintptr_t)(entry & PTE_ADDR_MASK);
}

static uint64_t *table_new(void)
{
	uint64_t pa = mm_alloc_frames(1);

	if (!pa)
		return NULL;
	memset((void *)(uintptr_t)pa, 0, PAGE_SIZE);
	return (uint64_t *)(uintptr_t)pa;
}

static uint64_t leaf_flags(unsigned perm)
{
	uint64_t f;

	if (!(perm & (PAGE_R | PAGE_W | PAGE_X)))
		return 0;
	f = PTE_PRESENT;
	if (perm & PAGE_W)
		f |= PTE_WRITE;
	if (perm & PAGE_NOCACHE)
		f |= PTE_PCD | PTE_PWT;
	if (!(perm & PAGE_X))
		f |= nx_bit;
	return f;
}

/* The entry at level `level` for va, creating tables above it.  NULL on
 * allocation failure. */
static uint64_t *walk_create(uintptr_t va, int level)
{
	uint64_t *t = pml4;

	for (int l = 3; l > level; l--) {
		uint64_t *e = &t[INDEX(va, l)];

		if (!(*e & PTE_PRESENT)) {
			uint64_t *n = table_new();

			if (!n)
				return NULL;
			*e = (uint64_t)(uintptr_t)n | TABLE_FLAGS;
		}
		kassert(!(*e & PTE_HUGE));
		t = table_at(*e);
	}
	return &t[INDEX(va, level)];
}

/* Replace the 2 MiB page in *pde by a table of 4 KiB pages, same flags. */
static int split_large(uint64_t *pde)
{
	uint64_t *pt = table_new();
	uint64_t base = *pde & PTE_ADDR_MASK & ~(LARGE_SIZE - 1);
	uint64_t flags = *pde & ~PTE_ADDR_MASK & ~PTE_HUGE;

	if (!pt)
		return -ENOMEM;
	for (unsigned i = 0; i < ENTRIES; i++)
		pt[i] = (base + (uint64_t)i * PAGE_SIZE) | flags;
	*pde = (uint64_t)(uintptr_t)pt | TABLE_FLAGS;
	return 0;
}

/* Set the 4 KiB leaf for va; lock held (or boot). */
static int set_page(uintptr_t va, uint64_t flags)
{
	uint64_t *pde = walk_create(va, 1);
	uint64_t *pt;

	if (!pde)
		return -ENOMEM;
	if (*pde & PTE_HUGE) {
		int err = split_large(pde);

		if (err)
			return err;
	} else if (!(*pde & PTE_PRESENT)) {
		uint64_t *n = table_new();

		if (!n)
			return -ENOMEM;
		*pde = (uint64_t)(uintptr_t)n | TABLE_FLAGS;
	}
	pt = table_at(*pde);
	/* Not-present entries keep the address: it is identity anyway, and
	 * a dump of the tables stays readable. */
	pt[INDEX(va, 0)] = ((uint64_t)va & PTE_ADDR_MASK) | flags;
	return 0;
}

static int protect_range(uintptr_t va, size_t len, unsigned perm)
{
	uintptr_t start = va & ~(uintptr_t)PAGE_MASK;
	uintptr_t end = (va + len + PAGE_MASK) & ~(uintptr_t)PAGE_MASK;
	uint64_t flags = leaf_flags(perm);

	if (end < start || end > CANONICAL_LOW_END)
		return -EINVAL;
	for (uintptr_t p = start; p < end; p += PAGE_SIZE) {
		int err = set_page(p, flags);

		if (err)
			return err;
	}
	return 0;
}

int paging_protect(uintptr_t va, size_t len, unsigned perm)
{
	unsigned long irq = spin_lock_irqsave(&pt_lock);
	int err = protect_range(va, len, perm);

	/* This core only: no shootdown IPI (see paging.h for when that is safe). */
	write_cr3(read_cr3());
	spin_unlock_irqrestore(&pt_lock, irq);
	return err;
}

bool paging_lookup(uintptr_t va, uint64_t *entry, size_t *page_size)
{
	uint64_t *t = pml4;

	/* Before paging_init() (an early fault report): nothing to say. */
	if (!t)
		return false;

	for (int l = 3; l >= 0; l--) {
		uint64_t e = t[INDEX(va, l)];

		if (!(e & PTE_PRESENT))
			return false;
		if (l == 0 || (e & PTE_HUGE)) {
			*entry = e;
			*page_size = 1ull << LEVEL_SHIFT(l);
			return true;
		}
		t = table_at(e);
	}
	return false;
}

void paging_load(void)
{
	write_cr3((uint64_t)(uintptr_t)pml4);
}

static void must(int err, const char *what)
{
	if (err)
		panic("paging_init: cannot map %s (error %d)", what, err);
}

void paging_init(uint64_t map_top)
{
	uintptr_t stride = PAGE_SIZE + KSTACK_SIZE;
	uintptr_t ks = (uintptr_t)__kstacks_start, ke = (uintptr_t)__kstacks_end;
	uint64_t big = PTE_PRESENT | PTE_WRITE | PTE_HUGE;

	nx_bit = cpu_has_nx() ? PTE_NX : 0;
	map_limit = (map_top + LARGE_SIZE - 1) & ~(LARGE_SIZE - 1);
	pml4 = table_new();
	if (!pml4)
		panic("paging_init: no frame for the PML4");
	for (uint64_t pa = 0; pa < map_limit; pa += LARGE_SIZE) {
		uint64_t *pde = walk_create((uintptr_t)pa, 1);

		if (!pde)
			panic("paging_init: out of frames mapping 0x%llx",
			      (unsigned long long)pa);
		*pde = pa | big | nx_bit;
	}
	must(protect_range(0, PAGE_SIZE, PAGE_NONE), "the null page");
	must(protect_range((uintptr_t)__text_start,
			   (size_t)(__text_end - __text_start), PAGE_RX), "text");
	must(protect_range((uintptr_t)__rodata_start,
			   (size_t)(__rodata_end - __rodata_start), PAGE_R), "rodata");
	must(protect_range((uintptr_t)__data_start,
			   (size_t)(__data_end - __data_start), PAGE_RW), "data");
	must(protect_range((uintptr_t)__ksyms_start,
			   (size_t)(_kernel_end - __ksyms_start), PAGE_R), "ksyms");
	/* Static stacks are [guard page][KSTACK_SIZE] each (cpu.c, boot.asm). */
	if ((ke - ks) % stride != 0 || ks % PAGE_SIZE != 0)
		panic("paging_init: .bss.kstacks is not a sequence of guard+stack");
	for (uintptr_t g = ks; g < ke; g += stride)
		must(protect_range(g, PAGE_SIZE, PAGE_NONE), "a stack guard");
	paging_load();
	log_info("paging: 0-%llu MiB identity-mapped, NX %s, kernel text R-X, "
		 "rodata R--, data RW-, %u stack guards",
		 (unsigned long long)(map_limit >> 20), nx_bit ? "on" : "unavailable",
		 (unsigned)((ke - ks) / stride));
}

/*
 * paging.h - the kernel's identity-mapped page tables and permissions.
 *
 * One address space, shared by every core: physical memory from 0 to
 * max(4 GiB, top of RAM) mapped at its own address with 2 MiB pages,
 * read/write and no-execute, except where finer permissions are needed,
 * which uses 4 KiB pages: the null page is not mapped, kernel text is
 * R-X, rodata and the symbol table R--, data/bss R/W NX, and every
 * kernel stack's guard page is not mapped.  MMIO below 4 GiB is reachable
 * (caching comes from the MTRRs set by the firmware).  paging_protect()
 * changes permissions later (AP trampoline, new stacks); it splits 2 MiB
 * pages as needed and flushes this core's TLB only: there is no TLB
 * shootdown, so once the APs run (smp_init) a change is only safe for
 * pages no other core has used (new stacks, fresh MMIO).  Reference: Intel SDM vol. 3 chapter 4 (4-level paging).
 */
#ifndef HYPHAE_X86_64_PAGING_H
#define HYPHAE_X86_64_PAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

/* Page table entry bits. */
#define PTE_PRESENT	(1ull << 0)
#define PTE_WRITE	(1ull << 1)
#define PTE_USER	(1ull << 2)
#define PTE_PWT		(1ull << 3)
#define PTE_PCD		(1ull << 4)
#define PTE_ACCESSED	(1ull << 5)
#define PTE_DIRTY	(1ull << 6)
#define PTE_HUGE	(1ull << 7)	/* PD/PDPT entry maps a large page */
#define PTE_GLOBAL	(1ull << 8)
#define PTE_NX		(1ull << 63)
#define PTE_ADDR_MASK	0x000ffffffffff000ull

/* Permissions for paging_protect(); PAGE_NONE unmaps. */
#define PAGE_NONE	0u
#define PAGE_R		(1u << 0)
#define PAGE_W		(1u << 1)
#define PAGE_X		(1u << 2)
#define PAGE_NOCACHE	(1u << 3)	/* uncached: MMIO (PCD | PWT) */
#define PAGE_RW		(PAGE_R | PAGE_W)
#define PAGE_RX		(PAGE_R | PAGE_X)

/*
 * Build the kernel page tables over [0, map_top) and switch to them.
 * Boot core, once, after the frame allocator works (tables come from it).
 */
void paging_init(uint64_t map_top);

/*
 * Map every page touching [va, va+len) at its own address with the
 * permission `perm` (PAGE_NONE unmaps; add PAGE_NOCACHE for MMIO).
 * Returns 0, -EINVAL outside the lower canonical half, -ENOMEM if a page
 * table could not be allocated.  Any core (a lock serialises changes).
 */
int __must_check paging_protect(uintptr_t va, size_t len, unsigned perm);

/*
 * The leaf entry mapping va and the size of the page it maps (4 KiB or
 * 2 MiB); false when va is not mapped.  For tests and fault reports.
 */
bool paging_lookup(uintptr_t va, uint64_t *entry, size_t *page_size);

/* Start switching this core to the kernel tables (APs, after paging_init). */
void paging_load(void);

#endif /* HYPHAE_X86_64_PAGING_H */

/*
 * mm.h - physical memory and kernel stacks.
 *
 * The kernel is identity-mapped (virtual == physical, boot/boot.asm), so a
 * physical frame is usable at its own address.  mm_init() builds the frame
 * allocator over the multiboot2 memory map's usable RAM, minus low memory
 * (below 1 MiB), the kernel image and the multiboot2 information; then the
 * kernel page tables (paging.h) and the heap (kmalloc.h).
 */
#ifndef HYPHAE_X86_64_MM_H
#define HYPHAE_X86_64_MM_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1ul << PAGE_SHIFT)
#define PAGE_MASK	(PAGE_SIZE - 1)

/* Every kernel stack: KSTACK_SIZE bytes above one unmapped guard page.
 * boot/boot.asm repeats this value for the boot stack. */
#define KSTACK_SIZE	(16 * 1024ul)

/* Below this, memory belongs to firmware and the AP trampoline. */
#define LOW_MEMORY_END	0x100000ull

struct mb2_info;
struct cpu_stack;
struct heap;

/*
 * Set up the frame allocator, the kernel page tables with their
 * permissions and the heap.  Boot core, once, after the multiboot2
 * information is parsed; panics if there is no usable memory.
 */
void mm_init(const struct mb2_info *mb);

/*
 * n physically contiguous frames (identity-mapped, read/write, NX), or 0
 * when none are left.  Any core, IRQ-safe.
 */
uint64_t __must_check mm_alloc_frames(size_t n);
/* Return frames from mm_alloc_frames(); n must match.  Any core. */
void mm_free_frames(uint64_t pa, size_t n);

/* frame_alloc_check() on the kernel's frames: 0 or a negative code. */
int mm_frames_check(void);

/* Frames managed / free right now (for the banner, tests, `mem`). */
size_t mm_total_frames(void);
size_t mm_free_frames_count(void);

/*
 * A KSTACK_SIZE kernel stack with an unmapped guard page below it.
 * Returns 0 and fills *s, or -ENOMEM.  Any core (takes the page-table lock).
 */
int __must_check kstack_alloc(struct cpu_stack *s);
void kstack_free(const struct cpu_stack *s);

/* Set up the kernel heap (kmalloc.c) over the frames.  From mm_init(). */
void kmalloc_init(void);

/* The heap behind kmalloc(), for statistics and checks (tests, shell). */
struct heap *kmalloc_heap(void);

#endif /* HYPHAE_X86_64_MM_H */

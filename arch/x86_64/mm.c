/*
 * mm.c - physical memory bring-up: frames, page tables, heap, stacks.
 *
 * The frame bitmap covers [0, top of usable RAM) and lives in the first
 * usable range (below 4 GiB, so the early map reaches it) that is above
 * low memory and clear of the kernel image and the multiboot2 block.  Then
 * every "available" range is added and low memory, the kernel image, the
 * boot information and the bitmap itself are reserved.  The identity map
 * covers max(4 GiB, top of RAM): MMIO in the 32-bit hole stays reachable;
 * reserved ranges above 4 GiB (QEMU lists one at 1 TiB) are not mapped,
 * a driver that needs one maps it with paging_protect().
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/frame.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/multiboot2.h"
#include "arch/x86_64/paging.h"
#include "errno.h"
#include "kmalloc.h"
#include "lib/log.h"
#include "panic.h"

#define EARLY_MAP_END	(4ull << 30)	/* boot.asm's identity map */
#define MIB_SHIFT	20

extern uint8_t _kernel_start[], _kernel_end[];

static struct frame_alloc frames;

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* A place for `bytes` of bitmap inside usable RAM, clear of what must stay. */
static uint64_t place_bitmap(const struct mb2_info *mb, uint64_t bytes)
{
	uint64_t kbase = (uintptr_t)_kernel_start;
	uint64_t klen = (uintptr_t)_kernel_end - kbase;
	uint64_t ibase = (uintptr_t)mb->base, ilen = mb->total_size;

	for (size_t i = 0; i < mb->mmap_count; i++) {
		struct mb2_mmap_entry e = mb2_mmap_get(mb, i);
		uint64_t end = e.base + e.len;
		uint64_t at;

		if (e.type != MB2_MEM_AVAILABLE)
			continue;
		at = align_up(e.base > LOW_MEMORY_END ? e.base : LOW_MEMORY_END,
			      PAGE_SIZE);
		/* Slide past the kernel and the boot information. */
		for (int pass = 0; pass < 2; pass++) {
			if (overlaps(at, bytes, kbase, klen))
				at = align_up(kbase + klen, PAGE_SIZE);
			if (overlaps(at, bytes, ibase, ilen))
				at = align_up(ibase + ilen, PAGE_SIZE);
		}
		if (at + bytes <= end && at + bytes <= EARLY_MAP_END)
			return at;
	}
	panic("mm_init: no room for the frame bitmap (%llu bytes)",
	      (unsigned long long)bytes);
}

void mm_init(const struct mb2_info *mb)
{
	uint64_t ram_top = 0, map_top = EARLY_MAP_END, bitmap_pa, bytes;
	uint64_t ram_bytes = 0;

	if (mb->mmap_count == 0)
		panic("mm_init: the boot information has no memory map");
	for (size_t i = 0; i < mb->mmap_count; i++) {
		struct mb2_mmap_entry e = mb2_mmap_get(mb, i);

		if (e.type == MB2_MEM_AVAILABLE) {
			ram_bytes += e.len;
			if (e.base + e.len > ram_top)
				ram_top = e.base + e.len;
		}
	}
	if (ram_top <= LOW_MEMORY_END)
		panic("mm_init: no usable memory above 1 MiB");
	if (ram_top > map_top)
		map_top = ram_top;

	bytes = frame_bitmap_words(0, ram_top) * sizeof(uint64_t);
	bitmap_pa = place_bitmap(mb, bytes);
	frame_alloc_init(&frames, (uint64_t *)(uintptr_t)bitmap_pa, 0, ram_top);
	for (size_t i = 0; i < mb->mmap_count; i++) {
		struct mb2_mmap_entry e = mb2_mmap_get(mb, i);

		if (e.type == MB2_MEM_AVAILABLE)
			frame_alloc_add(&frames, e.base, e.len);
	}
	/* Overlapping "reserved" entries win over "available" ones. */
	for (size_t i = 0; i < mb->mmap_count; i++) {
		struct mb2_mmap_entry e = mb2_mmap_get(mb, i);

		if (e.type != MB2_MEM_AVAILABLE)
			frame_alloc_reserve(&frames, e.base, e.len);
	}
	frame_alloc_reserve(&frames, 0, LOW_MEMORY_END);
	frame_alloc_reserve(&frames, (uintptr_t)_kernel_start,
			    (uintptr_t)_kernel_end - (uintptr_t)_kernel_start);
	frame_alloc_reserve(&frames, (uintptr_t)mb->base, mb->total_size);
	frame_alloc_reserve(&frames, bitmap_pa, bytes);

	log_info("mm: %llu MiB of RAM, %zu MiB usable (%zu frames); kernel "
		 "0x%llx-0x%llx",
		 (unsigned long long)(ram_bytes >> MIB_SHIFT),
		 (frame_total_count(&frames) * PAGE_SIZE) >> MIB_SHIFT,
		 frame_total_count(&frames),
		 (unsigned long long)(uintptr_t)_kernel_start,
		 (unsigned long long)(uintptr_t)_kernel_end);
	paging_init(map_top);
	kmalloc_init();
}

uint64_t mm_alloc_frames(size_t n)
{
	return frame_alloc(&frames, n);
}

void mm_free_frames(uint64_t pa, size_t n)
{
	frame_free(&frames, pa, n);
}

int mm_frames_check(void)
{
	return frame_alloc_check(&frames);
}

size_t mm_total_frames(void)
{
	return frame_total_count(&frames);
}

size_t mm_free_frames_count(void)
{
	return frame_free_count(&frames);
}

int kstack_alloc(struct cpu_stack *s)
{
	size_t pages = KSTACK_SIZE / PAGE_SIZE + 1;
	uint64_t pa = mm_alloc_frames(pages);

	if (!pa)
		return -ENOMEM;
	if (paging_protect((uintptr_t)pa, PAGE_SIZE, PAGE_NONE) != 0) {
		mm_free_frames(pa, pages);
		return -ENOMEM;
	}
	s->bottom = (uintptr_t)pa + PAGE_SIZE;
	s->top = s->bottom + KSTACK_SIZE;
	return 0;
}

void kstack_free(const struct cpu_stack *s)
{
	uintptr_t guard = s->bottom - PAGE_SIZE;

	if (paging_protect(guard, PAGE_SIZE, PAGE_RW) != 0)
		panic("kstack_free: cannot remap the guard page at 0x%llx",
		      (unsigned long long)guard);
	mm_free_frames((uint64_t)guard, KSTACK_SIZE / PAGE_SIZE + 1);
}

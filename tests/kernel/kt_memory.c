/*
 * kt_memory.c - in-kernel tests of the frame allocator and the heap.
 *
 * Frames: runs are distinct, writable, outside the kernel image and low
 * memory, and every frame comes back.  Heap: thousands of objects of
 * random sizes live at once, each filled with a pattern derived from its
 * address and checked before it is freed (overlap or corruption shows up
 * as a wrong byte), alignment requests, kzalloc, large allocations, the
 * heap's own checker, and that the frames it took return after a trim.
 */
#include <stdint.h>

#include "arch/x86_64/mm.h"
#include "arch/x86_64/multiboot2.h"
#include "kmalloc.h"
#include "lib/heap.h"
#include "lib/random.h"
#include "lib/string.h"
#include "tests/kernel/ktest.h"

#define HEAP_LOAD_SLOTS		4096
#define HEAP_LOAD_STEPS		60000
#define FRAME_RUNS		64
/* Each test seeds its own generator, so it runs alike alone (ktest=NAME). */
#define KT_SEED			0x2545f4914f6cdd1dull

extern uint8_t _kernel_start[], _kernel_end[];

static uint8_t pattern(const void *p, size_t i)
{
	return (uint8_t)(((uintptr_t)p >> 4) * 31 + i * 7);
}

static void fill(void *p, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = pattern(p, i);
}

static bool intact(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != pattern(p, i))
			return false;
	return true;
}

KTEST(frames_distinct_writable_returned)
{
	static struct { uint64_t pa; size_t n; } runs[FRAME_RUNS];
	size_t before = mm_free_frames_count();
	struct xoroshiro128pp rng;

	xoro_seed(&rng, KT_SEED);
	KT_ASSERT(mm_total_frames() > 0);
	KT_ASSERT(before <= mm_total_frames());
	KT_ASSERT_EQ(mm_frames_check(), 0);
	for (size_t i = 0; i < FRAME_RUNS; i++) {
		size_t n = 1 + xoro_below(&rng, 8);
		uint64_t pa = mm_alloc_frames(n);

		KT_ASSERT(pa != 0);
		KT_ASSERT_EQ(pa % PAGE_SIZE, 0);
		KT_ASSERT(pa >= LOW_MEMORY_END);
		KT_ASSERT(pa + n * PAGE_SIZE <= (uintptr_t)_kernel_start ||
			  pa >= (uintptr_t)_kernel_end);
		for (size_t j = 0; j < i; j++)
			KT_ASSERT(pa + n * PAGE_SIZE <= runs[j].pa ||
				  runs[j].pa + runs[j].n * PAGE_SIZE <= pa);
		fill((void *)(uintptr_t)pa, n * PAGE_SIZE);
		runs[i].pa = pa;
		runs[i].n = n;
	}
	for (size_t i = 0; i < FRAME_RUNS; i++) {
		KT_ASSERT(intact((void *)(uintptr_t)runs[i].pa, runs[i].n * PAGE_SIZE));
		mm_free_frames(runs[i].pa, runs[i].n);
	}
	KT_ASSERT_EQ(mm_free_frames_count(), before);
}

KTEST(frames_exhaust_and_refill)
{
	size_t before = mm_free_frames_count(), got = 0;
	uint64_t head = 0, pa;

	/* Chain every free frame through its first word, then free them. */
	while ((pa = mm_alloc_frames(1)) != 0) {
		*(uint64_t *)(uintptr_t)pa = head;
		head = pa;
		got++;
	}
	KT_ASSERT_EQ(got, before);
	KT_ASSERT_EQ(mm_free_frames_count(), 0);
	KT_ASSERT_EQ(mm_frames_check(), 0);
	KT_ASSERT_EQ(mm_alloc_frames(1), 0);
	while (head) {
		uint64_t next = *(uint64_t *)(uintptr_t)head;

		mm_free_frames(head, 1);
		head = next;
	}
	KT_ASSERT_EQ(mm_free_frames_count(), before);
	KT_ASSERT_EQ(mm_frames_check(), 0);
}

KTEST(heap_under_load)
{
	static struct { void *p; size_t n; } slot[HEAP_LOAD_SLOTS];
	struct heap *h = kmalloc_heap();
	size_t frames_before = mm_free_frames_count();
	size_t live = 0, peak = 0;
	struct xoroshiro128pp rng;

	xoro_seed(&rng, KT_SEED);
	for (unsigned step = 0; step < HEAP_LOAD_STEPS; step++) {
		size_t k = xoro_below(&rng, HEAP_LOAD_SLOTS);

		if (slot[k].p) {
			KT_ASSERT(intact(slot[k].p, slot[k].n));
			kfree(slot[k].p);
			slot[k].p = NULL;
			live--;
		} else {
			/* Mostly task- and timer-sized objects, some big ones. */
			size_t n = xoro_below(&rng, 16) ?
				   16 + xoro_below(&rng, 512) :
				   1 + xoro_below(&rng, 9000);

			slot[k].p = kmalloc(n);
			KT_ASSERT(slot[k].p != NULL);
			KT_ASSERT_EQ((uintptr_t)slot[k].p % 16, 0);
			slot[k].n = n;
			fill(slot[k].p, n);
			if (++live > peak)
				peak = live;
		}
		if (step % 10000 == 0)
			KT_ASSERT_EQ(heap_check(h), HEAP_CHECK_OK);
	}
	KT_ASSERT(peak > HEAP_LOAD_SLOTS / 4);
	for (size_t k = 0; k < HEAP_LOAD_SLOTS; k++) {
		if (slot[k].p) {
			KT_ASSERT(intact(slot[k].p, slot[k].n));
			kfree(slot[k].p);
			slot[k].p = NULL;
		}
	}
	KT_ASSERT_EQ(heap_check(h), HEAP_CHECK_OK);
	(void)heap_trim(h);
	KT_ASSERT_EQ(mm_free_frames_count(), frames_before);
}

KTEST(heap_alignment_zeroing_and_limits)
{
	KT_ASSERT(kmalloc(0) == NULL);
	KT_ASSERT(kmalloc_aligned(16, 3) == NULL);
	KT_ASSERT(kmalloc_aligned(16, 8192) == NULL);
	KT_ASSERT(kmalloc_aligned(16, 0) == NULL);
	for (size_t align = 1; align <= PAGE_SIZE; align <<= 1) {
		for (size_t size = 1; size <= 5000; size = size * 3 + 1) {
			uint8_t *p = kmalloc_aligned(size, align);

			KT_ASSERT(p != NULL);
			KT_ASSERT_EQ((uintptr_t)p % align, 0);
			fill(p, size);
			KT_ASSERT(intact(p, size));
			kfree(p);
		}
	}
	for (size_t size = 1; size < 3000; size += 97) {
		uint8_t *dirty = kmalloc(size), *z;

		KT_ASSERT(dirty != NULL);
		memset(dirty, 0xa5, size);
		kfree(dirty);
		z = kzalloc(size);
		KT_ASSERT(z != NULL);
		for (size_t i = 0; i < size; i++)
			KT_ASSERT_EQ(z[i], 0);
		kfree(z);
	}
	kfree(NULL);
}

KTEST(heap_large_allocation)
{
	size_t n = 3 * 1024 * 1024 + 123;
	size_t before = mm_free_frames_count();
	uint8_t *p = kmalloc(n);

	KT_ASSERT(p != NULL);
	KT_ASSERT(mm_free_frames_count() + n / PAGE_SIZE <= before);
	fill(p, n);
	KT_ASSERT(intact(p, n));
	kfree(p);
	KT_ASSERT_EQ(mm_free_frames_count(), before);
	/* More than there is: NULL, not a panic. */
	KT_ASSERT(kmalloc((mm_total_frames() + 1) * PAGE_SIZE) == NULL);
}

KTEST(boot_info_memory_map)
{
	const struct mb2_info *mb = ktest_boot_info();
	uint64_t avail = 0;

	KT_ASSERT(mb != NULL);
	KT_ASSERT(mb->mmap_count > 0);
	for (size_t i = 0; i < mb->mmap_count; i++) {
		struct mb2_mmap_entry e = mb2_mmap_get(mb, i);

		if (e.type == MB2_MEM_AVAILABLE)
			avail += e.len;
	}
	/* Everything managed is available RAM; little is lost to reservations. */
	KT_ASSERT(mm_total_frames() * PAGE_SIZE <= avail);
	KT_ASSERT(mm_total_frames() * PAGE_SIZE + 8 * 1024 * 1024 >= avail);
	/* QEMU's firmware provides an RSDP, which GRUB passes on. */
	KT_ASSERT(mb->rsdp != NULL);
}

KTEST(malformed_boot_info_panics)
{
	const struct mb2_info *mb = ktest_boot_info();
	static struct mb2_info copy_info;
	uint32_t *copy = kmalloc(mb->total_size);

	KT_ASSERT(copy != NULL);
	memcpy(copy, mb->base, mb->total_size);
	KT_ASSERT(mb2_parse_or_panic(copy, &copy_info) == &copy_info);
	KT_ASSERT_EQ(copy_info.mmap_count, mb->mmap_count);
	/* Make the first tag overrun the block. */
	copy[3] = mb->total_size;
	ktest_expect_panic("malformed multiboot2 information");
	(void)mb2_parse_or_panic(copy, &copy_info);
}

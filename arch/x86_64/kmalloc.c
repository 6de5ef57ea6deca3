/*
 * kmalloc.c - the kernel heap: lib/heap.c's size-class allocator over the
 * frame allocator.
 *
 * Frames are identity-mapped read/write NX, so a frame's physical address
 * is the pointer the heap gets.  Every call is safe on any core and in
 * interrupt handlers (the heap's locks and the frame allocator's are
 * irqsave).
 */
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/mm.h"
#include "kmalloc.h"
#include "lib/heap.h"
#include "lib/string.h"

_Static_assert(HEAP_PAGE_SIZE == PAGE_SIZE, "heap pages are frames");

/* The one kernel heap; mm.c calls kmalloc_init(). */
static struct heap kheap;

static void *pages_alloc(void *ctx, size_t npages)
{
	(void)ctx;
	return (void *)(uintptr_t)mm_alloc_frames(npages);
}

static void pages_free(void *ctx, void *p, size_t npages)
{
	(void)ctx;
	mm_free_frames((uint64_t)(uintptr_t)p, npages);
}

void kmalloc_init(void)
{
	static const struct heap_pages src = {
		.alloc = pages_alloc,
		.free = pages_free,
	};

	heap_init(&kheap, &src);
}

struct heap *kmalloc_heap(void)
{
	return &kheap;
}

void *kmalloc(size_t size)
{
	return heap_alloc(&kheap, size, 0);
}

void *kzalloc(size_t size)
{
	void *p = heap_alloc(&kheap, size, 0);

	if (p)
		memset(p, 0, size);
	return p;
}

void *kmalloc_aligned(size_t size, size_t align)
{
	if (align == 0 || (align & (align - 1)) || align > PAGE_SIZE)
		return NULL;
	return heap_alloc(&kheap, size, align);
}

void kfree(void *p)
{
	heap_free(&kheap, p);
}

/*
 * kmalloc.c - the kernel heap contract on the host: the C library's
 * allocator, so AddressSanitizer tracks every task and timer object.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "kmalloc.h"

void *kmalloc(size_t size)
{
	if (size == 0)
		return NULL;
	return malloc(size);
}

void *kzalloc(size_t size)
{
	if (size == 0)
		return NULL;
	return calloc(1, size);
}

void *kmalloc_aligned(size_t size, size_t align)
{
	void *p;

	if (size == 0 || align == 0 || (align & (align - 1)) || align > 4096)
		return NULL;
	if (align < sizeof(void *))
		align = sizeof(void *);
	if (posix_memalign(&p, align, size))
		return NULL;
	return p;
}

void kfree(void *p)
{
	free(p);
}

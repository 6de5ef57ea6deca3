/*
 * kmalloc.h - the kernel heap, as seen by portable code.
 *
 * The kernel implements these with a size-class (slab) allocator over the
 * physical frame allocator (arch/x86_64); the host build maps them to the C
 * library (arch/host) so ASan sees every object.  All are safe on any core;
 * none may be called from an interrupt handler unless documented otherwise
 * by the implementation.
 */
#ifndef HYPHAE_KMALLOC_H
#define HYPHAE_KMALLOC_H

#include <stddef.h>
#include "compiler.h"

/* NULL when out of memory; kmalloc(0) returns NULL. Aligned to 16 bytes. */
void *kmalloc(size_t size) __attribute__((malloc));
/* As kmalloc, zero-filled. */
void *kzalloc(size_t size) __attribute__((malloc));
/* Aligned to `align` (a power of two, at most 4096); free with kfree. */
void *kmalloc_aligned(size_t size, size_t align) __attribute__((malloc));
/* Accepts NULL. */
void kfree(void *p);

#endif /* HYPHAE_KMALLOC_H */

/*
 * ring.c - the serial input ring (see ring.h for the concurrency table).
 *
 * The two index stores are the only synchronisation: the producer writes
 * a byte then publishes it with a release store of head; the consumer
 * acquires head, reads the byte, then hands the slot back with a release
 * store of tail, which the producer acquires before reusing the slot.
 */
#include "lib/string.h"
#include "shell/ring.h"

_Static_assert((SHELL_RING_SIZE & (SHELL_RING_SIZE - 1)) == 0,
	       "SHELL_RING_SIZE must be a power of two");

void shell_ring_init(struct shell_ring *r)
{
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	atomic_init(&r->dropped, 0);
	memset(r->buf, 0, sizeof(r->buf));
}

bool shell_ring_push(struct shell_ring *r, uint8_t byte)
{
	/* relaxed: only the producer writes head. */
	unsigned head = atomic_load_explicit(&r->head, memory_order_relaxed);
	/* acquire: pairs with the release store of tail in shell_ring_pop(),
	 * so the consumer's read of the slot is done before we overwrite it. */
	unsigned tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (head - tail >= SHELL_RING_SIZE) {
		/* relaxed: a statistic, read by anyone. */
		atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
		return false;
	}
	r->buf[head % SHELL_RING_SIZE] = byte;
	/* release: publishes the byte; pairs with the acquire load of head
	 * in shell_ring_pop()/shell_ring_count(). */
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return true;
}

int shell_ring_pop(struct shell_ring *r)
{
	/* relaxed: only the consumer writes tail. */
	unsigned tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	/* acquire: pairs with the release store in shell_ring_push(). */
	unsigned head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint8_t byte;

	if (head == tail)
		return -1;
	byte = r->buf[tail % SHELL_RING_SIZE];
	/* release: the slot is read; pairs with the acquire load of tail in
	 * shell_ring_push(). */
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return byte;
}

size_t shell_ring_count(struct shell_ring *r)
{
	unsigned tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	/* acquire: pairs with the release store in shell_ring_push(), so a
	 * counted byte can be popped. */
	unsigned head = atomic_load_explicit(&r->head, memory_order_acquire);

	return head - tail;
}

uint64_t shell_ring_dropped(struct shell_ring *r)
{
	return atomic_load_explicit(&r->dropped, memory_order_relaxed);
}

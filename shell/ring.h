/*
 * ring.h - a fixed single-producer single-consumer byte ring for serial
 * input: the receive interrupt handler produces, the shell task consumes.
 *
 * Properties: one producer (the IRQ handler of one device: it runs on one
 * core at a time, never nested), one consumer (the shell task), fixed
 * capacity SHELL_RING_SIZE bytes, never blocks.  When it is full the
 * producer drops the new byte and counts it: bytes already queued are
 * never overwritten, so unread input is not corrupted, only cut short.
 *
 *   may run concurrently with   push   pop/peek   dropped
 *   push                        no     yes        yes
 *   pop / peek                  yes    no         yes
 *
 * Progress: wait-free on both sides.  Indices are free-running unsigned
 * counters (head - tail = bytes queued), so full and empty differ without a
 * spare slot.  Reference: Lamport's single-producer single-consumer
 * queue; Linux Documentation/core-api/circular-buffers.rst (same orders).
 */
#ifndef HYPHAE_SHELL_RING_H
#define HYPHAE_SHELL_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

/* Capacity: a power of two; four full lines of typed-ahead input. */
#define SHELL_RING_SIZE	1024

struct shell_ring {
	/* Written by the producer only; read by the consumer. */
	atomic_uint head;		/* next byte to write (free-running) */
	atomic_uint_least64_t dropped;	/* bytes refused because it was full */
	/* Written by the consumer only; read by the producer. */
	atomic_uint tail __cacheline_aligned;	/* next byte to read */
	/* Slot i % SIZE: written by the producer before it publishes head,
	 * read by the consumer after it sees head. */
	uint8_t buf[SHELL_RING_SIZE];
};

/* An empty ring (static storage may use zeroes).  Before either side runs. */
void shell_ring_init(struct shell_ring *r);

/* Append one byte; false (and the drop is counted) if full.  Producer only;
 * IRQ-safe. */
bool shell_ring_push(struct shell_ring *r, uint8_t byte);

/* Take the oldest byte: 0..255, or -1 if empty.  Consumer only. */
int shell_ring_pop(struct shell_ring *r);

/* Bytes queued as seen by the consumer.  Consumer only. */
size_t shell_ring_count(struct shell_ring *r);

/* Total bytes dropped so far (monotonic).  Any context. */
uint64_t shell_ring_dropped(struct shell_ring *r);

#endif /* HYPHAE_SHELL_RING_H */

/*
 * stress_log_ring.c - several cores logging into the log ring while a
 * reader copies lines out, under ASan and TSan.
 *
 * Each writer puts lines that describe themselves: "wT nSEQ " then one
 * letter, derived from (T, SEQ), repeated to a length also derived from
 * them.  The reader asks for the newest lines again and again; every line
 * log_ring_get() returns must be one writer's whole line, never a mix of
 * two.  The ring is small against the writers' pace (64 lines), so slots
 * are overwritten while they are read, and six writers on fewer CPUs get
 * preempted mid-line while the others write a lap (for MIN_SECONDS at
 * least).  The test fails if no read ever came back empty-handed (it
 * would prove nothing); it fails with a torn line if log_ring_get() stops
 * re-reading the slot's seq after the copy (ASan and TSan, 3 runs of 3),
 * and, in the TSan build 4 runs of 5, if writers stop claiming their slot
 * (test_log's lapped-writer test catches that every time).  Prints
 * "1 passed, 0 failed".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "tests/support/host_clock.h"
#include "tests/support/stress_util.h"

#define WRITERS		6
#define WANT_MISSED	2000ul
#define WANT_READS	200000ul
#define MIN_SECONDS	2
#define MAX_SECONDS	3

static struct log_ring ring;
static atomic_bool stop;

static size_t make_line(char *buf, unsigned w, unsigned long seq)
{
	size_t n = (size_t)snprintf(buf, LOG_LINE_MAX, "w%u n%lu ", w, seq);
	size_t len = 40 + (seq * 7 + w * 13) % 200;
	char c = (char)('a' + (seq + w) % 26);

	memset(buf + n, c, len - n);
	buf[len - 1] = '\n';
	buf[len] = '\0';
	return len;
}

static void *writer(void *arg)
{
	unsigned w = (unsigned)(uintptr_t)arg;
	char buf[LOG_LINE_MAX];

	for (unsigned long seq = 0; !atomic_load_explicit(&stop, memory_order_relaxed);
	     seq++)
		log_ring_put(&ring, buf, make_line(buf, w, seq));
	return NULL;
}

int main(void)
{
	double end = host_now_s() + (double)stress_scale(MAX_SECONDS);
	double min_end = host_now_s() + (double)stress_scale(MIN_SECONDS);
	unsigned long want_missed = stress_scale(WANT_MISSED);
	unsigned long want_reads = stress_scale(WANT_READS);
	unsigned long reads = 0, got = 0, missed = 0;
	pthread_t t[WRITERS];

	for (unsigned i = 0; i < WRITERS; i++)
		STRESS_CHECK(pthread_create(&t[i], NULL, writer, (void *)(uintptr_t)i) == 0,
			     "pthread_create");
	while ((missed < want_missed || reads < want_reads ||
		host_now_s() < min_end) && host_now_s() < end) {
		uint64_t next = atomic_load_explicit(&ring.next, memory_order_acquire);
		char buf[LOG_LINE_MAX], want[LOG_LINE_MAX];

		for (uint64_t i = next > 8 ? next - 8 : 0; i < next; i++) {
			unsigned w;
			unsigned long seq;
			int n = log_ring_get(&ring, i, buf);

			reads++;
			if (n < 0) {
				missed++;
				continue;
			}
			got++;
			STRESS_CHECK(sscanf(buf, "w%u n%lu ", &w, &seq) == 2 && w < WRITERS,
				     "line %llu is no writer's: %.60s", (unsigned long long)i, buf);
			STRESS_CHECK((size_t)n == make_line(want, w, seq) &&
				     strcmp(buf, want) == 0,
				     "line %llu torn: %.80s", (unsigned long long)i, buf);
		}
	}
	atomic_store(&stop, true);
	for (unsigned i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	printf("stress_log_ring: %llu lines written, %lu reads, %lu whole, %lu "
	       "overwritten or being written\n",
	       (unsigned long long)atomic_load(&ring.next), reads, got, missed);
	STRESS_CHECK(missed > 0 && got > 0, "no read raced a write");
	printf("1 passed, 0 failed\n");
	return 0;
}

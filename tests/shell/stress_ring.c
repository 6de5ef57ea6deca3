/*
 * stress_ring.c - shell/ring.c with a real producer thread (standing in
 * for the receive interrupt) and a consumer thread: every byte that was
 * accepted arrives once and in order, and accepted + dropped = offered.
 * Built with ASan and TSan; HYPHAE_SOAK=1 runs longer.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "shell/ring.h"

static struct shell_ring ring;
static atomic_bool producer_done;
static unsigned long offered, accepted;

static void *producer(void *arg)
{
	unsigned long n = *(unsigned long *)arg;
	uint8_t seq = 0;

	for (unsigned long i = 0; i < n; i++) {
		offered++;
		if (shell_ring_push(&ring, seq)) {
			seq++;
			accepted++;
		}
	}
	atomic_store(&producer_done, true);
	return NULL;
}

int main(void)
{
	unsigned long n = getenv("HYPHAE_SOAK") ? 200000000ul : 5000000ul;
	unsigned long got = 0;
	uint8_t expect = 0;
	pthread_t t;

	shell_ring_init(&ring);
	if (pthread_create(&t, NULL, producer, &n))
		return 2;
	for (;;) {
		bool done = atomic_load(&producer_done);
		int b;

		while ((b = shell_ring_pop(&ring)) >= 0) {
			if ((uint8_t)b != expect) {
				printf("stress_ring: byte %lu is %d, expected %u\n",
				       got, b, expect);
				return 1;
			}
			expect++;
			got++;
		}
		if (done && shell_ring_count(&ring) == 0)
			break;
	}
	pthread_join(t, NULL);
	if (got != accepted || accepted + shell_ring_dropped(&ring) != offered) {
		printf("stress_ring: got %lu accepted %lu dropped %llu offered %lu\n",
		       got, accepted, (unsigned long long)shell_ring_dropped(&ring),
		       offered);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	printf("stress_ring: %lu bytes offered, %lu passed through, %llu dropped\n",
	       offered, got, (unsigned long long)shell_ring_dropped(&ring));
	printf("1 passed, 0 failed\n");
	return 0;
}

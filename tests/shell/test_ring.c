/*
 * test_ring.c - shell/ring.c: FIFO order, full ring drops and counts new
 * bytes without touching queued ones, wrap-around of the free-running
 * indices, empty pops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "shell/ring.h"
#include "tests/support/rng.h"

static struct shell_ring ring;

static void test_fifo(void **state)
{
	(void)state;
	shell_ring_init(&ring);
	assert_int_equal(shell_ring_pop(&ring), -1);
	for (int i = 0; i < 10; i++)
		assert_true(shell_ring_push(&ring, (uint8_t)(i + 100)));
	assert_int_equal(shell_ring_count(&ring), 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(shell_ring_pop(&ring), i + 100);
	assert_int_equal(shell_ring_pop(&ring), -1);
	assert_int_equal(shell_ring_count(&ring), 0);
	assert_int_equal(shell_ring_dropped(&ring), 0);
}

static void test_full_drops_new_bytes(void **state)
{
	(void)state;
	shell_ring_init(&ring);
	for (unsigned i = 0; i < SHELL_RING_SIZE; i++)
		assert_true(shell_ring_push(&ring, (uint8_t)i));
	assert_false(shell_ring_push(&ring, 0xee));
	assert_false(shell_ring_push(&ring, 0xef));
	assert_int_equal(shell_ring_dropped(&ring), 2);
	assert_int_equal(shell_ring_count(&ring), SHELL_RING_SIZE);
	/* The queued bytes are intact: the drops did not overwrite. */
	for (unsigned i = 0; i < SHELL_RING_SIZE; i++)
		assert_int_equal(shell_ring_pop(&ring), (int)(i & 0xff));
	assert_int_equal(shell_ring_pop(&ring), -1);
	/* Room again. */
	assert_true(shell_ring_push(&ring, 7));
	assert_int_equal(shell_ring_pop(&ring), 7);
	assert_int_equal(shell_ring_dropped(&ring), 2);
}

static void test_wraparound(void **state)
{
	struct xoroshiro128pp rng;
	unsigned next_in = 0, next_out = 0;

	(void)state;
	shell_ring_init(&ring);
	/* Start the indices near UINT_MAX to cross their wrap too. */
	atomic_store(&ring.head, UINT32_MAX - 500);
	atomic_store(&ring.tail, UINT32_MAX - 500);
	test_rng_init(&rng, 7);
	for (int round = 0; round < 20000; round++) {
		int pushes = (int)xoro_below(&rng, 40);
		int pops = (int)xoro_below(&rng, 40);

		for (int i = 0; i < pushes; i++) {
			bool full = shell_ring_count(&ring) == SHELL_RING_SIZE;

			assert_int_equal(shell_ring_push(&ring, (uint8_t)next_in), !full);
			if (!full)
				next_in++;
		}
		for (int i = 0; i < pops; i++) {
			int b = shell_ring_pop(&ring);

			if (next_out == next_in) {
				assert_int_equal(b, -1);
			} else {
				assert_int_equal(b, (int)(next_out & 0xff));
				next_out++;
			}
		}
		assert_int_equal(shell_ring_count(&ring), next_in - next_out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_full_drops_new_bytes),
		cmocka_unit_test(test_wraparound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

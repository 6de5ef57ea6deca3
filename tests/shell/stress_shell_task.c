/*
 * stress_shell_task.c - the shell task on two host cores while a producer
 * thread (standing in for the receive interrupt) pushes a random mix of
 * commands that start jobs, Ctrl-Cs that race their completion, pasted
 * bursts and random bytes.  At the end the input is closed: the shell task
 * must finish, every job's tasks must be gone (ASan's leak check), no data
 * race (TSan), and the shell must still answer before that.
 * HYPHAE_SOAK=1 runs longer; HYPHAE_TEST_SEED=N runs another mix than the
 * default one (the seed is printed).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt/rt.h"
#include "shell/builtins.h"
#include "shell/rt_commands.h"
#include "shell/task.h"
#include "tests/support/rng.h"
#include "tests/support/rt_harness.h"

#define CORES		2
#define WAIT_MS		20000

static struct harness h;
static struct shell_commands cmds;
static struct shell_input input;

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long out_bytes, prompts;
static char tail[64];		/* the last bytes written */

static void out_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	pthread_mutex_lock(&out_lock);
	out_bytes += n;
	for (size_t i = 0; i < n; i++) {
		memmove(tail, tail + 1, sizeof(tail) - 2);
		tail[sizeof(tail) - 2] = s[i];
	}
	if (n == 8 && memcmp(s, "hyphae> ", 8) == 0)
		prompts++;
	pthread_mutex_unlock(&out_lock);
}

static const struct shell_out out = { .write = out_write };

static void push(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		(void)shell_input_push(&input, (uint8_t)s[i]);
	shell_input_wake(&input);
}

static const char *const lines[] = {
	"echo hello\r", "sleep 1ms\r", "sleep 3ms\r", "spawn 20\r",
	"spawn 50 yield 3\r", "spawn 10 sleep 1ms\r", "rt\r", "dump timer\r",
	"nope\r", "help sleep\r", "uptime\r", "\x03", "\x03", "\x15", "\r",
};

static bool tail_ends_with(const char *s)
{
	size_t n = strlen(s), t = strlen(tail);
	bool yes;

	pthread_mutex_lock(&out_lock);
	t = strlen(tail);
	yes = t >= n && strcmp(tail + t - n, s) == 0;
	pthread_mutex_unlock(&out_lock);
	return yes;
}

int main(void)
{
	unsigned rounds = getenv("HYPHAE_SOAK") ? 100000 : 5000;
	struct join_handle jh = JOIN_HANDLE_NONE;
	struct xoroshiro128pp rng;
	uint64_t seed = test_rng_init(&rng, 0x5e11);
	uint64_t end;
	int failed = 0;

	h_start(&h, CORES);
	shell_commands_init(&cmds);
	if (shell_register_builtins(&cmds) || shell_register_rt_commands(&cmds, h.rt, NULL))
		return 2;
	shell_input_init(&input);
	if (shell_task_spawn(h.rt, &input, &cmds, &out, &jh))
		return 2;
	for (unsigned r = 0; r < rounds; r++) {
		unsigned kind = (unsigned)xoro_below(&rng, 10);

		if (kind < 7) {
			const char *l = lines[xoro_below(&rng, sizeof(lines) / sizeof(lines[0]))];

			push(l, strlen(l));
		} else if (kind < 9) {
			char noise[48];
			size_t n = (size_t)xoro_below(&rng, sizeof(noise));

			for (size_t i = 0; i < n; i++)
				noise[i] = (char)xoro_next(&rng);
			push(noise, n);
		} else {
			char burst[300];

			memset(burst, 'z', sizeof(burst));
			push(burst, sizeof(burst));	/* an over-long line */
			push("\r", 1);
		}
		h_nap_us((unsigned)xoro_below(&rng, 400));
	}
	/* Still answering: cancel whatever runs, then a known line. */
	push("\x03\x15\x03", 3);
	h_nap_us(20000);
	push("\x15" "echo still-alive\r", 18);
	end = h_now_ms() + WAIT_MS;
	while (!tail_ends_with("still-alive\nhyphae> ") && h_now_ms() < end)
		h_nap_us(1000);
	if (!tail_ends_with("still-alive\nhyphae> ")) {
		printf("stress_shell_task: no answer at the end (seed %#llx); tail %s\n",
		       (unsigned long long)seed, tail);
		failed = 1;
	}
	/* Let detached spawn children finish, then end the shell. */
	h_nap_us(100000);
	wait_cell_close(&input.cell);
	end = h_now_ms() + WAIT_MS;
	while (!join_is_finished(&jh) && h_now_ms() < end)
		h_nap_us(1000);
	if (!join_is_finished(&jh)) {
		printf("stress_shell_task: the shell task did not end (seed %#llx)\n",
		       (unsigned long long)seed);
		failed = 1;
	}
	join_drop(&jh);
	h_stop(&h);
	h_free(&h);
	printf("stress_shell_task: %u rounds, %lu bytes out, %lu prompts, %llu dropped, seed %#llx\n",
	       rounds, out_bytes, prompts,
	       (unsigned long long)shell_ring_dropped(&input.ring),
	       (unsigned long long)seed);
	printf("%d passed, %d failed\n", !failed, failed);
	return failed;
}

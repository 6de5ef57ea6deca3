/*
 * rtt.c - which state the machine is in: the round trip of one cache
 * line between two threads pinned to the first two CPUs this process may
 * use, the median of RTT_RUNS runs of RTT_TRIPS trips, printed as
 *
 *	cross-core round trip NNN ns
 *
 * The virtual machine this project is measured on has two states, as its
 * host moves the two vCPUs between nearby and distant physical cores
 * (docs/PERFORMANCE.md, "The two machine states"): about 80-185 ns or
 * 430-620 ns here, and the runtime workloads that cross cores follow it,
 * in hyphae and in tokio alike.  bench/ab and bench/compare run this
 * before every round, so a comparison can tell which rounds ran in
 * which state.  It takes about 0.1 s in the slow state.  With one CPU
 * it prints "one CPU" and exits 0; it fails only if a thread cannot be
 * started or pinned.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RTT_TRIPS	50000
#define RTT_RUNS	3

/* Odd: the pinger's turn is done, the ponger's to answer; even: back. */
static _Alignas(64) atomic_ulong turn;
/* The second thread's start: 1 pinned, 2 could not pin. */
static atomic_int ready;
static int cpus[2];

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *pong(void *arg)
{
	(void)arg;
	if (pin(cpus[1])) {
		atomic_store(&ready, 2);
		return NULL;
	}
	atomic_store(&ready, 1);
	for (unsigned long i = 0; i < (unsigned long)RTT_RUNS * RTT_TRIPS; i++) {
		/* acquire/release: each side's store answers the other's. */
		while (atomic_load_explicit(&turn, memory_order_acquire) != 2 * i + 1)
			;
		atomic_store_explicit(&turn, 2 * i + 2, memory_order_release);
	}
	return NULL;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(void)
{
	cpu_set_t set;
	double ns[RTT_RUNS];
	unsigned long i = 0;
	pthread_t t;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		perror("rtt: sched_getaffinity");
		return 1;
	}
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	if (n < 2) {
		printf("cross-core round trip: one CPU\n");
		return 0;
	}
	if (pin(cpus[0]) != 0 || pthread_create(&t, NULL, pong, NULL) != 0) {
		fprintf(stderr, "rtt: cannot pin this thread or start another\n");
		return 1;
	}
	while (atomic_load(&ready) == 0)
		;
	if (atomic_load(&ready) != 1) {
		fprintf(stderr, "rtt: cannot pin the second thread\n");
		return 1;
	}
	for (int r = 0; r < RTT_RUNS; r++) {
		double t0 = now_ns();

		for (unsigned long k = 0; k < RTT_TRIPS; k++, i++) {
			atomic_store_explicit(&turn, 2 * i + 1, memory_order_release);
			while (atomic_load_explicit(&turn, memory_order_acquire) !=
			       2 * i + 2)
				;
		}
		ns[r] = (now_ns() - t0) / RTT_TRIPS;
	}
	pthread_join(t, NULL);
	qsort(ns, RTT_RUNS, sizeof(ns[0]), cmp_double);
	printf("cross-core round trip %.0f ns\n", ns[RTT_RUNS / 2]);
	return 0;
}

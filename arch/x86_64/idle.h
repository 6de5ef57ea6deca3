/*
 * idle.h - how an x86_64 core waits (arch_wait_for_interrupt, idle.c) and
 * how another core wakes it: halt polling first, then HLT; an IPI only
 * for a core that really sits in HLT.
 */
#ifndef HYPHAE_X86_64_IDLE_H
#define HYPHAE_X86_64_IDLE_H

#include <stdbool.h>

struct cpu;

/* The wake word's states (struct cpu.wake; idle.c explains them). */
enum idle_wake_state {
	WAKE_NONE = 0,		/* running, or about to wait */
	WAKE_POLLING,		/* waiting, polling the word */
	WAKE_SLEEPING,		/* waiting in HLT: a wakeup needs an IPI */
	WAKE_PENDING,		/* woken since its last wait returned */
};

/* A wait polls at most this long before HLT (Linux's guest haltpoll
 * default is 200 us; under TCG a polling vCPU holds a host thread). */
#define HALT_POLL_MAX_NS	50000ull
/* The first poll of a core whose waits turned short. */
#define HALT_POLL_START_NS	10000ull

/*
 * Mark core c woken; true if it sits in HLT and needs the wakeup IPI
 * (the caller sends it), false if it polls, has not started to wait, or
 * was already woken.  Any core.
 */
bool idle_kick(struct cpu *c);

/* Core c's wake word now (enum idle_wake_state; a snapshot).  Any core. */
unsigned idle_state(const struct cpu *c);

/* Reset c's wake word and poll.  That core, at bring-up. */
void idle_init_cpu(struct cpu *c);

#endif /* HYPHAE_X86_64_IDLE_H */

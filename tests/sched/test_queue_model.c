/*
 * test_queue_model.c - model-based random tests of the wait map and the
 * channel.
 *
 * Wait map: random waits, subscribes, wakes (of waited keys, of free
 * keys, twice), drops and closes against a model that maps each key to
 * at most one waiter.  Keys come from a small set so duplicates and hash
 * collisions are frequent.  Channel: random try_send, send polls by
 * several senders, try_recv, recv polls, sender and receiver drops and
 * close against a model holding the items in a FIFO, the senders queued
 * in order, and the receiver's registration.  After every step: each
 * result and received value, every waiter's state, wakes and waker
 * references.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "errno.h"
#include "sched/channel.h"
#include "sched/wait_map.h"
#include "task_util.h"
#include "tests/support/rng.h"
#include "tests/support/waker_counter.h"

#define NW	6
#define NKEYS	5
#define STEPS	3000
/* Runs of STEPS steps, each from its own seed.  A close while the
 * receiver is parked is rare (about one run in a hundred), so many short
 * runs; 256 take under half a second under ASan. */
#define SEEDS	256
#define MAP_SEED	2654435761u	/* default seeds (HYPHAE_TEST_SEED) */
#define CHAN_SEED	40503u
#define CAP	4

/* The steps' choices; each run seeds it (test_rng_seed() + run). */
static struct xoroshiro128pp rng;

struct tw {
	struct counter_cx wk;	/* a yield sets wk.yielded */
	int res;
};

static struct tw tw[NW + 1];	/* [NW]: the channel's receiver */

static void tws_init(void)
{
	for (int i = 0; i <= NW; i++)
		counter_cx_init(&tw[i].wk, true);
}

/*
 * Few keys, spread over the 64-bit range: 0, then 10, 24 and 37 times
 * 0x0001000100010001 (all three in one hash chain of wait_map.c), and
 * 13 times it (another chain).
 */
static uint64_t key_of(unsigned k)
{
	static const uint64_t mul[NKEYS] = { 0, 10, 24, 37, 13 };

	return mul[k] * 0x0001000100010001ull;
}

/* ---- wait map ----------------------------------------------------------- */

struct mwait {
	int st;			/* enum wait_map_entry_state */
	uint64_t key, value;
	bool has_waker;		/* a poll registered one */
	int woken;
};

static struct wait_map_entry ents[NW];
static struct mwait mw[NW];
static int m_owner[NKEYS];	/* waiter on key k, or -1 */
static bool m_closed;

static int key_index(uint64_t key)
{
	for (unsigned k = 0; k < NKEYS; k++)
		if (key_of(k) == key)
			return (int)k;
	return -1;
}

static void map_step(struct wait_map *m)
{
	int i = (int)xoro_below(&rng, NW), want;
	unsigned k = (unsigned)xoro_below(&rng, NKEYS);
	struct mwait *e = &mw[i];
	uint64_t v = xoro_below(&rng, 1000), got = 0;
	size_t n = 0;

	switch (xoro_below(&rng, 9)) {
	case 0: case 1: case 2: {	/* poll waiter i on key k */
		enum poll p, wp = POLL_READY;

		if (e->st == WAIT_MAP_WAITING)
			k = (unsigned)key_index(e->key);
		p = wait_map_wait(m, &ents[i], key_of(k), &tw[i].wk.cx, &got, &tw[i].res);
		want = 0;
		switch (e->st) {
		case WAIT_MAP_WOKEN:
			e->st = WAIT_MAP_IDLE;
			assert_int_equal(got, e->value);
			break;
		case WAIT_MAP_CLOSED:
			e->st = WAIT_MAP_IDLE;
			want = -EPIPE;
			break;
		case WAIT_MAP_WAITING:
			wp = POLL_PENDING;
			e->has_waker = true;
			break;
		default:
			if (m_closed) {
				want = -EPIPE;
			} else if (m_owner[k] >= 0) {
				want = -EEXIST;
			} else {
				wp = POLL_PENDING;
				m_owner[k] = i;
				e->st = WAIT_MAP_WAITING;
				e->key = key_of(k);
				e->has_waker = true;
			}
		}
		assert_int_equal(p, wp);
		if (p == POLL_READY)
			assert_int_equal(tw[i].res, want);
		break;
	}
	case 3:				/* subscribe */
		if (e->st != WAIT_MAP_IDLE)
			break;
		want = m_closed ? -EPIPE : m_owner[k] >= 0 ? -EEXIST : 0;
		if (want == 0) {
			m_owner[k] = i;
			e->st = WAIT_MAP_WAITING;
			e->key = key_of(k);
			e->has_waker = false;
		}
		assert_int_equal(wait_map_subscribe(m, &ents[i], key_of(k)), want);
		break;
	case 4: case 5:			/* wake key k (waited on or not) */
		if (m_closed) {
			want = -EPIPE;
		} else if (m_owner[k] < 0) {
			want = -ENOENT;
		} else {
			struct mwait *o = &mw[m_owner[k]];

			want = 0;
			o->st = WAIT_MAP_WOKEN;
			o->value = v;
			o->woken += o->has_waker;
			o->has_waker = false;
			m_owner[k] = -1;
		}
		assert_int_equal(wait_map_wake(m, key_of(k), v), want);
		break;
	case 6: case 7: {		/* drop waiter i */
		bool delivered = e->st == WAIT_MAP_WOKEN;

		if (e->st == WAIT_MAP_WAITING)
			m_owner[key_index(e->key)] = -1;
		e->st = WAIT_MAP_IDLE;
		e->has_waker = false;
		assert_int_equal(wait_map_entry_drop(m, &ents[i]), delivered);
		if (delivered)
			assert_int_equal(ents[i].value, e->value);
		break;
	}
	default:			/* close, rarely */
		if (xoro_below(&rng, 30))
			break;
		m_closed = true;
		for (int j = 0; j < NW; j++) {
			if (mw[j].st != WAIT_MAP_WAITING)
				continue;
			mw[j].st = WAIT_MAP_CLOSED;
			mw[j].woken += mw[j].has_waker;
			mw[j].has_waker = false;
		}
		for (unsigned x = 0; x < NKEYS; x++)
			m_owner[x] = -1;
		wait_map_close(m);
		break;
	}
	for (int j = 0; j < NW; j++) {
		assert_int_equal(atomic_load(&ents[j].state), mw[j].st);
		assert_int_equal(tw[j].wk.c.wakes, mw[j].woken);
		assert_int_equal(tw[j].wk.c.refs, mw[j].has_waker);
	}
	for (unsigned x = 0; x < NKEYS; x++)
		n += m_owner[x] >= 0;
	wait_map_check(m);
	assert_int_equal(wait_map_waiters(m), n);
	assert_int_equal(wait_map_is_closed(m), m_closed);
}

static void test_wait_map_model(void **st)
{
	uint64_t base = test_rng_seed(MAP_SEED);

	(void)st;
	for (uint64_t run = 1; run <= SEEDS; run++) {
		struct wait_map m;

		xoro_seed(&rng, base + run);
		wait_map_init(&m);
		tws_init();
		memset(mw, 0, sizeof(mw));
		for (int i = 0; i < NW; i++)
			wait_map_entry_init(&ents[i]);
		for (unsigned k = 0; k < NKEYS; k++)
			m_owner[k] = -1;
		m_closed = false;
		for (int step = 0; step < STEPS; step++)
			map_step(&m);
		for (int i = 0; i < NW; i++) {
			(void)wait_map_entry_drop(&m, &ents[i]);
			assert_int_equal(tw[i].wk.c.refs, 0);
		}
	}
}

/* ---- channel --------------------------------------------------------------- */

static uint64_t cbuf[CHANNEL_BUF_SIZE(sizeof(uint64_t), CAP) / sizeof(uint64_t)];
static struct channel_sender snd[NW];

struct msend {
	int st;			/* enum channel_sender_state */
	uint64_t item;		/* what its send carries */
	int woken;
};

static struct msend ms[NW];
static uint64_t m_items[CAP];
static int m_head, m_len;
static int m_txq[NW], m_txq_len;	/* queued senders, head first */
static bool m_rx_reg;			/* the receiver's waker is parked */
static int m_rx_woken;
static uint64_t m_next_item;

static void txq_remove(int i)
{
	int k = 0;

	for (int j = 0; j < m_txq_len; j++)
		if (m_txq[j] != i)
			m_txq[k++] = m_txq[j];
	m_txq_len = k;
}

/* A push that succeeded: the parked receiver is woken. */
static void m_push(uint64_t v)
{
	m_items[(m_head + m_len++) % CAP] = v;
	if (m_rx_reg) {
		m_rx_reg = false;
		m_rx_woken++;
	}
}

static int m_try_push(uint64_t v)
{
	if (m_closed)
		return -EPIPE;
	if (m_len == CAP)
		return -EAGAIN;
	m_push(v);
	return 0;
}

/* A receive: 0 with the item, -EAGAIN, -EPIPE; wakes the first sender. */
static int m_pop(uint64_t *v)
{
	if (m_len == 0)
		return m_closed ? -EPIPE : -EAGAIN;
	*v = m_items[m_head];
	m_head = (m_head + 1) % CAP;
	m_len--;
	if (m_txq_len > 0) {
		int h = m_txq[0];

		txq_remove(h);
		ms[h].st = CHAN_SENDER_WOKEN;
		ms[h].woken++;
	}
	return 0;
}

static void chan_step(struct channel *ch)
{
	int i = (int)xoro_below(&rng, NW), want;
	struct msend *s = &ms[i];
	uint64_t got = 0, mgot = 0;

	switch (xoro_below(&rng, 11)) {
	case 0: case 1:			/* try_send */
		want = m_try_push(m_next_item);
		assert_int_equal(channel_try_send(ch, &m_next_item), want);
		m_next_item++;
		break;
	case 2: case 3: case 4: {	/* poll sender i */
		enum poll p, wp = POLL_READY;

		if (s->st == CHAN_SENDER_IDLE)
			s->item = m_next_item++;
		p = channel_send(ch, &snd[i], &s->item, &tw[i].wk.cx, &tw[i].res);
		want = 0;
		if (s->st == CHAN_SENDER_CLOSED) {
			want = -EPIPE;
			s->st = CHAN_SENDER_IDLE;
		} else if (s->st == CHAN_SENDER_WAITING) {
			wp = POLL_PENDING;
		} else {
			bool woken = s->st == CHAN_SENDER_WOKEN;

			want = -EAGAIN;
			if (woken || m_txq_len == 0)
				want = m_try_push(s->item);
			if (want == -EAGAIN) {
				if (woken) {
					memmove(m_txq + 1, m_txq, m_txq_len * sizeof(int));
					m_txq[0] = i;
					m_txq_len++;
				} else {
					m_txq[m_txq_len++] = i;
				}
				s->st = CHAN_SENDER_WAITING;
				/* At the head it looks again (closed, or room). */
				if (m_txq[0] == i && (want = m_try_push(s->item)) != -EAGAIN) {
					txq_remove(i);
					s->st = CHAN_SENDER_IDLE;
				} else {
					wp = POLL_PENDING;
				}
			} else {
				s->st = CHAN_SENDER_IDLE;
			}
		}
		assert_int_equal(p, wp);
		if (p == POLL_READY)
			assert_int_equal(tw[i].res, want);
		break;
	}
	case 5: case 6:			/* try_recv */
		want = m_pop(&mgot);
		assert_int_equal(channel_try_recv(ch, &got), want);
		if (want == 0)
			assert_int_equal(got, mgot);
		break;
	case 7: {			/* recv poll */
		enum poll p;

		want = m_pop(&mgot);
		p = channel_recv(ch, &tw[NW].wk.cx, &got, &tw[NW].res);
		if (want == -EAGAIN) {
			assert_int_equal(p, POLL_PENDING);
			assert_false(tw[NW].wk.yielded);
			m_rx_reg = true;
		} else {
			assert_int_equal(p, POLL_READY);
			assert_int_equal(tw[NW].res, want);
			if (want == 0)
				assert_int_equal(got, mgot);
		}
		break;
	}
	case 8:				/* drop sender i */
		if (s->st == CHAN_SENDER_WAITING)
			txq_remove(i);
		if (s->st == CHAN_SENDER_WOKEN && m_txq_len > 0) {
			int h = m_txq[0];

			txq_remove(h);
			ms[h].st = CHAN_SENDER_WOKEN;
			ms[h].woken++;
		}
		s->st = CHAN_SENDER_IDLE;
		channel_sender_drop(ch, &snd[i]);
		break;
	case 9:				/* the receiver gives up */
		m_rx_reg = false;
		channel_recv_drop(ch);
		break;
	default:			/* close, rarely */
		if (xoro_below(&rng, 30))
			break;
		m_closed = true;
		if (m_rx_reg) {
			m_rx_reg = false;
			m_rx_woken++;
		}
		while (m_txq_len > 0) {
			int h = m_txq[0];

			txq_remove(h);
			ms[h].st = CHAN_SENDER_CLOSED;
			ms[h].woken++;
		}
		channel_close(ch);
		break;
	}
	for (int j = 0; j < NW; j++) {
		assert_int_equal(atomic_load(&snd[j].state), ms[j].st);
		assert_int_equal(tw[j].wk.c.wakes, ms[j].woken);
		assert_int_equal(tw[j].wk.c.refs, ms[j].st == CHAN_SENDER_WAITING);
	}
	channel_check(ch);
	assert_int_equal(atomic_load(&ch->tx_waiting), m_txq_len);
	{
		struct channel_sender *w = ch->tx_head;

		for (int j = 0; j < m_txq_len; j++, w = w->next)
			assert_ptr_equal(w, &snd[m_txq[j]]);
		assert_null(w);
	}
	assert_int_equal(tw[NW].wk.c.wakes, m_rx_woken);
	assert_int_equal(tw[NW].wk.c.refs, m_rx_reg);
	assert_int_equal(atomic_load(&ch->rx_waiting), m_rx_reg);
	assert_int_equal(channel_is_closed(ch), m_closed);
}

static void test_channel_model(void **st)
{
	uint64_t base = test_rng_seed(CHAN_SEED);

	(void)st;
	for (uint64_t run = 1; run <= SEEDS; run++) {
		struct channel ch;

		xoro_seed(&rng, base + run);
		assert_int_equal(channel_init(&ch, cbuf, sizeof(cbuf), sizeof(uint64_t),
					      CAP), 0);
		tws_init();
		memset(ms, 0, sizeof(ms));
		for (int i = 0; i < NW; i++)
			channel_sender_init(&snd[i]);
		m_head = m_len = m_txq_len = 0;
		m_rx_reg = false;
		m_rx_woken = 0;
		m_closed = false;
		m_next_item = 0;
		for (int step = 0; step < STEPS; step++)
			chan_step(&ch);
		for (int i = 0; i < NW; i++) {
			channel_sender_drop(&ch, &snd[i]);
			assert_int_equal(tw[i].wk.c.refs, 0);
		}
		channel_recv_drop(&ch);
		assert_int_equal(tw[NW].wk.c.refs, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_map_model),
		cmocka_unit_test(test_channel_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * wheel.c - the hierarchical timer wheel (see wheel.h for the design and
 * the level table).
 *
 * Placement is relative to the wheel's `now`: level = where the deadline's
 * bits first differ from now's (6 bits per level, capped at the top
 * level), slot = the deadline's 6 bits at that level.  Below the top level
 * a slot's start tick is in now's current rotation of the next level up,
 * after now; on the top level slot indices at or before now's wrap to the
 * next 2^36-tick rotation, which is where deadlines beyond the range wait.
 * Turning processes occupied slots in order of their start tick: entries
 * due at that tick fire (or wait in the expired list once the fire budget
 * is spent), the rest are re-placed against the new now (always on a lower
 * level, or a later top-level slot).  With 10^6 timers out of cache each
 * re-placement is a cache miss, so a slot's WHEEL_CHAINS lists are walked
 * in lockstep to overlap them (fire at 10^6 in docs/PERFORMANCE.md).
 */
#include "errno.h"
#include "panic.h"
#include "timer/wheel.h"

#define SLOT_MASK	((ticks_t)WHEEL_SLOTS - 1)
#define TOP_LEVEL	(WHEEL_LEVELS - 1)

static inline unsigned level_shift(unsigned level)
{
	return level * WHEEL_SLOT_BITS;
}

/* The level on which now and key first differ, uncapped (0..10). */
static inline unsigned raw_level(ticks_t now, ticks_t key)
{
	/* OR with the slot mask so the argument is non-zero and equal values
	 * (or values differing only in level 0) land on level 0. */
	unsigned bit = 63 - (unsigned)__builtin_clzll((now ^ key) | SLOT_MASK);

	return bit / WHEEL_SLOT_BITS;
}

static inline unsigned slot_of(ticks_t key, unsigned level)
{
	return (unsigned)((key >> level_shift(level)) & SLOT_MASK);
}

/*
 * The start tick of slot `s` on `level`: the first such tick after now.
 * Below the top level it is in now's rotation of level + 1 (the wheel's
 * invariants guarantee it is after now); on the top level a slot whose
 * start in this rotation is not after now means the next rotation.
 */
static inline ticks_t slot_start(ticks_t now, unsigned level, unsigned s)
{
	ticks_t rotation = now & ~(((ticks_t)1 << level_shift(level + 1)) - 1);
	ticks_t start = rotation + ((ticks_t)s << level_shift(level));

	if (level == TOP_LEVEL && start <= now)
		start += WHEEL_RANGE;
	return start;
}

/* The occupied slot of `level` whose start comes first after now. */
static inline unsigned next_slot(const struct timer_wheel *w, unsigned level)
{
	uint64_t occ = w->occupied[level];

	if (level == TOP_LEVEL) {
		/* Slots after now's index start in this rotation; the others
		 * (including now's own, whose start has passed) in the next. */
		unsigned first = slot_of(w->now, level) + 1;
		uint64_t later = first >= WHEEL_SLOTS ? 0 : occ & (~(uint64_t)0 << first);

		if (later)
			occ = later;
	}
	return (unsigned)__builtin_ctzll(occ);
}

static inline void hlist_push(struct timer_entry **head, struct timer_entry *e)
{
	struct timer_entry *first = *head;

	e->next = first;
	if (first)
		first->pprev = &e->next;
	*head = e;
	e->pprev = head;
}

/* Put a not-yet-due entry (deadline > now) on its level and slot; returns
 * the slot's start tick (the key with the bits below its level cleared). */
static ticks_t wheel_place(struct timer_wheel *w, struct timer_entry *e)
{
	ticks_t key = e->deadline;
	unsigned level, s;

	/* Too far: wait for the furthest tick the top level can name. */
	if (key - w->now >= WHEEL_RANGE)
		key = w->now + WHEEL_RANGE - 1;
	level = raw_level(w->now, key);
	if (level > TOP_LEVEL)
		level = TOP_LEVEL;
	s = slot_of(key, level);
	hlist_push(&w->slots[level][s][w->next_chain++ % WHEEL_CHAINS], e);
	w->occupied[level] |= (uint64_t)1 << s;
	w->pending[level]++;
	e->slot = (uint16_t)(level * WHEEL_SLOTS + s);
	return key & ~(((ticks_t)1 << level_shift(level)) - 1);
}

static void expired_append(struct timer_wheel *w, struct timer_entry *e)
{
	e->next = NULL;
	e->pprev = w->expired_tail;
	*w->expired_tail = e;
	w->expired_tail = &e->next;
	w->expired_count++;
	e->slot = WHEEL_SLOT_EXPIRED;
}

static inline bool slot_empty(const struct timer_wheel *w, unsigned level,
			      unsigned s)
{
	for (unsigned k = 0; k < WHEEL_CHAINS; k++)
		if (w->slots[level][s][k])
			return false;
	return true;
}

/* Take `e` out of whatever list holds it and fix bitmap and counts. */
static inline __attribute__((always_inline)) void
wheel_unlink(struct timer_wheel *w, struct timer_entry *e)
{
	struct timer_entry *next = e->next, **pprev = e->pprev;

	*pprev = next;
	if (next)
		next->pprev = pprev;
	if (e->slot == WHEEL_SLOT_EXPIRED) {
		if (!next)
			w->expired_tail = pprev;
		w->expired_count--;
	} else {
		unsigned level = e->slot / WHEEL_SLOTS, s = e->slot % WHEEL_SLOTS;

		/*
		 * Only an entry that was alone in its chain (first: pprev
		 * is a chain head; last: no next) can leave the slot empty,
		 * so the other chains' heads are read only then: a cancel
		 * among many pending touches the entry and its neighbours,
		 * not the slot array.
		 */
		if (!next && (uintptr_t)pprev - (uintptr_t)w->slots <
			     sizeof(w->slots) && slot_empty(w, level, s))
			w->occupied[level] &= ~((uint64_t)1 << s);
		w->pending[level]--;
	}
	/*
	 * e's links and slot are left as they are: they mean something only
	 * while e is in a list, and every insert writes them.  What bounds a
	 * cancel among 10^6 pending is the store buffer: its two stores to
	 * cold lines (the neighbours) commit in order, and every store behind
	 * them waits in the buffer, so each store left out here counts
	 * (docs/PERFORMANCE.md, timer wheel).
	 */
}

void timer_entry_init(struct timer_entry *e)
{
	e->next = NULL;
	e->pprev = NULL;
	e->deadline = 0;
	e->action.waker = WAKER_NONE;
	e->slot = WHEEL_SLOT_NONE;
	e->kind = TIMER_ENTRY_WAKER;
	atomic_init(&e->state, TIMER_ENTRY_IDLE);
}

void timer_entry_init_callback(struct timer_entry *e, timer_callback_fn fn,
			       void *arg)
{
	timer_entry_init(e);
	e->kind = TIMER_ENTRY_CALLBACK;
	e->action.callback.fn = fn;
	e->action.callback.arg = arg;
}

void timer_wheel_init(struct timer_wheel *w, ticks_t now)
{
	unsigned level, s, k;

	w->now = now;
	w->next_chain = 0;
	w->next_start = TIMER_NO_DEADLINE;
	for (level = 0; level < WHEEL_LEVELS; level++) {
		w->occupied[level] = 0;
		w->pending[level] = 0;
		for (s = 0; s < WHEEL_SLOTS; s++)
			for (k = 0; k < WHEEL_CHAINS; k++)
				w->slots[level][s][k] = NULL;
	}
	w->expired = NULL;
	w->expired_tail = &w->expired;
	w->expired_count = 0;
}

int timer_wheel_insert(struct timer_wheel *w, struct timer_entry *e,
		       ticks_t deadline)
{
	ticks_t start;

	/* relaxed: the state is only written under the caller's lock. */
	if (atomic_load_explicit(&e->state, memory_order_relaxed) ==
	    TIMER_ENTRY_PENDING)
		panic("timer_wheel_insert: entry %p is already pending", (void *)e);
	if (deadline <= w->now)
		return -ETIMEDOUT;
	e->deadline = deadline;
	start = wheel_place(w, e);
	if (start < w->next_start)
		w->next_start = start;
	/* relaxed: PENDING publishes nothing to lock-free readers, who only
	 * act on FIRED. */
	atomic_store_explicit(&e->state, TIMER_ENTRY_PENDING, memory_order_relaxed);
	return 0;
}

bool timer_wheel_cancel(struct timer_wheel *w, struct timer_entry *e)
{
	/* relaxed: written only under the caller's lock. */
	if (atomic_load_explicit(&e->state, memory_order_relaxed) !=
	    TIMER_ENTRY_PENDING)
		return false;
	wheel_unlink(w, e);
	/* relaxed: IDLE is only acted on under the lock. */
	atomic_store_explicit(&e->state, TIMER_ENTRY_IDLE, memory_order_relaxed);
	return true;
}

/* First occupied level, or WHEEL_LEVELS if the wheel has no waiting entry. */
static inline unsigned first_level(const struct timer_wheel *w)
{
	unsigned level;

	for (level = 0; level < WHEEL_LEVELS; level++)
		if (w->occupied[level])
			break;
	return level;
}

ticks_t timer_wheel_next_deadline(const struct timer_wheel *w)
{
	unsigned level;

	if (w->expired)
		return w->expired->deadline;
	level = first_level(w);
	if (level == WHEEL_LEVELS)
		return TIMER_NO_DEADLINE;
	/* Each level's slots all start before any slot of the level above
	 * (they lie in now's current slot of that level), so the first
	 * occupied level holds the earliest start. */
	return slot_start(w->now, level, next_slot(w, level));
}

/* Hand an unlinked, due entry to the fire callback; the wheel's last touch. */
static inline void wheel_fire_one(struct timer_entry *e, timer_fire_fn fire,
				  void *arg)
{
	fire(e, arg);
	/* release: the fire callback's reads of e (the waker it took) happen
	 * before; pairs with the acquire load in timer_entry_state(), after
	 * which the owner may free e. */
	atomic_store_explicit(&e->state, TIMER_ENTRY_FIRED, memory_order_release);
}

/* Fire up to `max` expired entries, oldest deadline first. */
static size_t wheel_fire_expired(struct timer_wheel *w, size_t max,
				 timer_fire_fn fire, void *arg)
{
	size_t fired = 0;

	while (fired < max && w->expired) {
		struct timer_entry *e = w->expired;

		wheel_unlink(w, e);
		wheel_fire_one(e, fire, arg);
		fired++;
	}
	return fired;
}

/*
 * Process every slot that starts by `target`, in order of start tick.
 * Entries due at the slot's start fire at once while the budget lasts and
 * nothing older waits in expired (so deadline order holds), else go to
 * expired; the rest go to lower levels.  Returns the number fired.
 */
static size_t wheel_cascade(struct timer_wheel *w, ticks_t target, size_t max,
			    timer_fire_fn fire, void *arg)
{
	size_t fired = 0;
	unsigned level;

	while ((level = first_level(w)) < WHEEL_LEVELS) {
		unsigned s = next_slot(w, level);
		ticks_t start = slot_start(w->now, level, s);
		struct timer_entry *chain[WHEEL_CHAINS];
		unsigned n = 0;

		if (start > target)
			break;
		for (unsigned k = 0; k < WHEEL_CHAINS; k++) {
			if (w->slots[level][s][k])
				chain[n++] = w->slots[level][s][k];
			w->slots[level][s][k] = NULL;
		}
		w->occupied[level] &= ~((uint64_t)1 << s);
		/* Every tick before `start` is empty now, so the wheel may
		 * stand at `start`: entries due then expire, the rest lie
		 * within this slot's span and go to lower levels. */
		w->now = start;
		while (n) {
			/* One entry from each chain per round: their loads
			 * are independent, so cache misses overlap. */
			for (unsigned k = 0; k < n;) {
				struct timer_entry *e = chain[k];

				if (e->next)
					chain[k++] = e->next;
				else
					chain[k] = chain[--n];
				w->pending[level]--;
				if (e->deadline != start) {
					wheel_place(w, e);
				} else if (fired < max && !w->expired) {
					wheel_fire_one(e, fire, arg);
					fired++;
				} else {
					expired_append(w, e);
				}
			}
		}
	}
	w->now = target;
	level = first_level(w);
	w->next_start = level == WHEEL_LEVELS ? TIMER_NO_DEADLINE :
			slot_start(w->now, level, next_slot(w, level));
	return fired;
}

size_t timer_wheel_advance(struct timer_wheel *w, ticks_t now, size_t max,
			   timer_fire_fn fire, void *arg)
{
	/* Older expired entries first, then what the turn brings. */
	size_t fired = 0;

	if (w->expired)
		fired = wheel_fire_expired(w, max, fire, arg);
	if (now >= w->next_start)
		fired += wheel_cascade(w, now, max - fired, fire, arg);
	else if (now > w->now)
		w->now = now;	/* no slot starts by `now`: nothing moves */
	return fired;
}

size_t timer_wheel_pending_level(const struct timer_wheel *w, unsigned level)
{
	if (level == WHEEL_LEVELS)
		return w->expired_count;
	kassert(level < WHEEL_LEVELS);
	return w->pending[level];
}

size_t timer_wheel_pending(const struct timer_wheel *w)
{
	size_t n = w->expired_count;
	unsigned level;

	for (level = 0; level < WHEEL_LEVELS; level++)
		n += w->pending[level];
	return n;
}

/* ---- invariant checker -------------------------------------------------- */

static void check_links(struct timer_entry *const *head, struct timer_entry *e,
			uint16_t slot)
{
	struct timer_entry *const *pprev = head;

	for (; e; pprev = &e->next, e = e->next) {
		if (e->pprev != pprev)
			panic("timer_wheel_check: entry %p pprev broken", (void *)e);
		if (e->slot != slot)
			panic("timer_wheel_check: entry %p says slot %u, is in %u",
			      (void *)e, e->slot, slot);
		if (atomic_load_explicit(&e->state, memory_order_relaxed) !=
		    TIMER_ENTRY_PENDING)
			panic("timer_wheel_check: entry %p in wheel not PENDING",
			      (void *)e);
	}
}

/* The entry's place is right for its deadline as seen from w->now. */
static void check_placement(const struct timer_wheel *w,
			    const struct timer_entry *e, unsigned level,
			    unsigned s)
{
	ticks_t d = e->deadline;
	ticks_t start = slot_start(w->now, level, s);

	if (d <= w->now)
		panic("timer_wheel_check: deadline %llu waiting at now %llu",
		      (unsigned long long)d, (unsigned long long)w->now);
	if (start <= w->now || start > d)
		panic("timer_wheel_check: deadline %llu in L%u slot %u starting %llu (now %llu)",
		      (unsigned long long)d, level, s, (unsigned long long)start,
		      (unsigned long long)w->now);
	if (level < TOP_LEVEL) {
		/* Below the top level the place is exactly the deadline's. */
		if (raw_level(w->now, d) != level || slot_of(d, level) != s)
			panic("timer_wheel_check: deadline %llu belongs in L%u slot %u, is in L%u slot %u",
			      (unsigned long long)d, raw_level(w->now, d),
			      slot_of(d, raw_level(w->now, d)), level, s);
	} else if (raw_level(w->now, d) < TOP_LEVEL) {
		/* A top-level entry never belongs lower: a slot boundary
		 * lies between now and its deadline. */
		panic("timer_wheel_check: deadline %llu on top level, belongs on L%u",
		      (unsigned long long)d, raw_level(w->now, d));
	}
}

void timer_wheel_check(const struct timer_wheel *w)
{
	struct timer_entry *const *tail = &w->expired;
	const struct timer_entry *e;
	ticks_t last = 0;
	size_t n = 0;
	unsigned level, s;

	for (level = 0; level < WHEEL_LEVELS; level++) {
		size_t count = 0;

		for (s = 0; s < WHEEL_SLOTS; s++) {
			bool bit = (w->occupied[level] >> s) & 1;

			if (bit == slot_empty(w, level, s))
				panic("timer_wheel_check: L%u slot %u bitmap %d, list %s",
				      level, s, bit, bit ? "empty" : "non-empty");
			for (unsigned k = 0; k < WHEEL_CHAINS; k++) {
				struct timer_entry *const *head = &w->slots[level][s][k];

				check_links(head, *head,
					    (uint16_t)(level * WHEEL_SLOTS + s));
				for (e = *head; e; e = e->next) {
					check_placement(w, e, level, s);
					count++;
				}
			}
		}
		if (count != w->pending[level])
			panic("timer_wheel_check: L%u counts %zu, holds %zu",
			      level, w->pending[level], count);
	}
	if (first_level(w) < WHEEL_LEVELS &&
	    w->next_start > slot_start(w->now, first_level(w),
				       next_slot(w, first_level(w))))
		panic("timer_wheel_check: next_start %llu after the first slot",
		      (unsigned long long)w->next_start);
	check_links(&w->expired, w->expired, WHEEL_SLOT_EXPIRED);
	for (e = w->expired; e; e = e->next) {
		if (e->deadline > w->now || e->deadline < last)
			panic("timer_wheel_check: expired deadline %llu out of order (now %llu)",
			      (unsigned long long)e->deadline,
			      (unsigned long long)w->now);
		last = e->deadline;
		tail = &e->next;
		n++;
	}
	if (n != w->expired_count || w->expired_tail != tail)
		panic("timer_wheel_check: expired list count %zu/%zu or tail broken",
		      w->expired_count, n);
}

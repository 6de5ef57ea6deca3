/*
 * frame.c - bitmap frame allocator (see frame.h for the design).
 *
 * Bit i of the bitmap is frame base_pfn + i; 1 = unavailable.  The hint is
 * a word index below which every word is full, so single-frame allocation
 * usually looks at one word.  Runs are found first-fit, skipping full
 * words.  Counting is exact: total and free change only when a bit really
 * flips, so reserving a range twice or reserving memory that is not RAM
 * changes nothing.
 */
#include <stdint.h>

#include "arch/x86_64/frame.h"
#include "panic.h"

#define WORD_FULL	UINT64_MAX

static inline bool bit_get(const struct frame_alloc *fa, size_t i)
{
	return fa->bitmap[i / FRAME_BITS_PER_WORD] >> (i % FRAME_BITS_PER_WORD) & 1;
}

static inline bool is_managed(const struct frame_alloc *fa, size_t i)
{
	return fa->managed[i / FRAME_BITS_PER_WORD] >> (i % FRAME_BITS_PER_WORD) & 1;
}

static inline void bit_set(struct frame_alloc *fa, size_t i)
{
	fa->bitmap[i / FRAME_BITS_PER_WORD] |= 1ull << (i % FRAME_BITS_PER_WORD);
}

static inline void bit_clear(struct frame_alloc *fa, size_t i)
{
	fa->bitmap[i / FRAME_BITS_PER_WORD] &= ~(1ull << (i % FRAME_BITS_PER_WORD));
}

static size_t words_for(size_t nframes)
{
	return (nframes + FRAME_BITS_PER_WORD - 1) / FRAME_BITS_PER_WORD;
}

size_t frame_bitmap_words(uint64_t lo, uint64_t hi)
{
	uint64_t first = lo >> FRAME_SHIFT;
	uint64_t last = (hi + FRAME_SIZE - 1) >> FRAME_SHIFT;

	return 2 * (hi > lo ? words_for((size_t)(last - first)) : 1);
}

void frame_alloc_init(struct frame_alloc *fa, uint64_t *bitmap,
		      uint64_t lo, uint64_t hi)
{
	uint64_t first = lo >> FRAME_SHIFT;
	uint64_t last = (hi + FRAME_SIZE - 1) >> FRAME_SHIFT;
	size_t words;

	fa->bitmap = bitmap;
	fa->base_pfn = first;
	fa->nframes = hi > lo ? (size_t)(last - first) : 0;
	words = frame_bitmap_words(lo, hi) / 2;
	fa->managed = bitmap + words;
	for (size_t w = 0; w < words; w++) {
		bitmap[w] = WORD_FULL;
		fa->managed[w] = 0;
	}
	spin_init(&fa->lock);
	fa->total = 0;
	fa->free = 0;
	fa->hint = 0;
}

/* Clip [base, base+len) to the bitmap, as frame indices [*a, *b). */
static bool clip(const struct frame_alloc *fa, uint64_t base, uint64_t len,
		 bool inward, size_t *a, size_t *b)
{
	uint64_t end = base + len < base ? UINT64_MAX : base + len;
	uint64_t first, last;

	if (inward) {
		first = (base + FRAME_SIZE - 1) >> FRAME_SHIFT;
		last = end >> FRAME_SHIFT;
	} else {
		first = base >> FRAME_SHIFT;
		last = (end >> FRAME_SHIFT) + ((end & (FRAME_SIZE - 1)) != 0);
	}
	if (first < fa->base_pfn)
		first = fa->base_pfn;
	if (last > fa->base_pfn + fa->nframes)
		last = fa->base_pfn + fa->nframes;
	if (first >= last)
		return false;
	*a = (size_t)(first - fa->base_pfn);
	*b = (size_t)(last - fa->base_pfn);
	return true;
}

/* Bits set in x.  Not __builtin_popcountll: without -mpopcnt that is a
 * libgcc call, and the kernel links no libgcc. */
static size_t popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (size_t)((x * 0x0101010101010101ull) >> 56);
}

/* The bits of frames [a, b) that lie in word w. */
static uint64_t word_mask(size_t w, size_t a, size_t b)
{
	size_t lo = w * FRAME_BITS_PER_WORD, hi = lo + FRAME_BITS_PER_WORD;
	uint64_t m = WORD_FULL;

	if (a > lo)
		m &= WORD_FULL << (a - lo);
	if (b < hi)
		m &= WORD_FULL >> (hi - b);
	return m;
}

/*
 * Boot-time set-up works a word (64 frames) at a time: only the bits
 * that really flip count, as popcounts, so 128 MiB is 512 word updates,
 * not 32,768 bit updates (each a write that may trap under a hypervisor
 * that shadows the page it lies in).
 */
void frame_alloc_add(struct frame_alloc *fa, uint64_t base, uint64_t len)
{
	size_t a, b;

	if (!clip(fa, base, len, true, &a, &b))
		return;
	for (size_t w = a / FRAME_BITS_PER_WORD; w * FRAME_BITS_PER_WORD < b; w++) {
		uint64_t flip = fa->bitmap[w] & word_mask(w, a, b);
		size_t n = popcount64(flip);

		fa->bitmap[w] &= ~flip;
		fa->managed[w] |= flip;
		fa->total += n;
		fa->free += n;
	}
}

void frame_alloc_reserve(struct frame_alloc *fa, uint64_t base, uint64_t len)
{
	size_t a, b;

	if (!clip(fa, base, len, false, &a, &b))
		return;
	for (size_t w = a / FRAME_BITS_PER_WORD; w * FRAME_BITS_PER_WORD < b; w++) {
		uint64_t flip = ~fa->bitmap[w] & word_mask(w, a, b);
		size_t n = popcount64(flip);

		fa->bitmap[w] |= flip;
		fa->managed[w] &= ~flip;
		fa->total -= n;
		fa->free -= n;
	}
}

/* First free frame with index >= j, or nframes.  Lock held. */
static size_t find_free_from(const struct frame_alloc *fa, size_t j)
{
	size_t words = words_for(fa->nframes);
	size_t w = j / FRAME_BITS_PER_WORD;
	/* Treat the bits below j in its word as taken. */
	uint64_t below = (1ull << (j % FRAME_BITS_PER_WORD)) - 1;

	for (; w < words; w++, below = 0) {
		uint64_t word = fa->bitmap[w] | below;

		if (word != WORD_FULL) {
			size_t i = w * FRAME_BITS_PER_WORD +
				   (size_t)__builtin_ctzll(~word);

			return i < fa->nframes ? i : fa->nframes;
		}
	}
	return fa->nframes;
}

/* First run of n free frames, or nframes.  Lock held. */
static size_t find_run(const struct frame_alloc *fa, size_t n)
{
	size_t i = find_free_from(fa, fa->hint * FRAME_BITS_PER_WORD);

	while (i + n <= fa->nframes) {
		size_t run = 1;

		while (run < n && !bit_get(fa, i + run))
			run++;
		if (run == n)
			return i;
		/* Frame i + run is taken: no run can start before it. */
		i = find_free_from(fa, i + run + 1);
	}
	return fa->nframes;
}

uint64_t frame_alloc(struct frame_alloc *fa, size_t n)
{
	unsigned long flags;
	size_t i;

	if (n == 0)
		return 0;
	flags = spin_lock_irqsave(&fa->lock);
	if (n > fa->free) {
		spin_unlock_irqrestore(&fa->lock, flags);
		return 0;
	}
	i = find_run(fa, n);
	if (i + n > fa->nframes) {
		spin_unlock_irqrestore(&fa->lock, flags);
		return 0;
	}
	for (size_t k = i; k < i + n; k++)
		bit_set(fa, k);
	fa->free -= n;
	/* Words below i's were full when the scan passed them. */
	if (n == 1)
		fa->hint = i / FRAME_BITS_PER_WORD;
	spin_unlock_irqrestore(&fa->lock, flags);
	return (fa->base_pfn + i) << FRAME_SHIFT;
}

void frame_free(struct frame_alloc *fa, uint64_t pa, size_t n)
{
	uint64_t pfn = pa >> FRAME_SHIFT;
	unsigned long flags;
	size_t i;

	if ((pa & (FRAME_SIZE - 1)) || pfn < fa->base_pfn ||
	    pfn - fa->base_pfn + n > fa->nframes || n == 0)
		panic("frame_free: 0x%llx (%zu frames) is not an allocated range",
		      (unsigned long long)pa, n);
	i = (size_t)(pfn - fa->base_pfn);
	flags = spin_lock_irqsave(&fa->lock);
	for (size_t k = i; k < i + n; k++) {
		if (!bit_get(fa, k) || !is_managed(fa, k)) {
			spin_unlock_irqrestore(&fa->lock, flags);
			panic("frame_free: frame 0x%llx is %s",
			      (unsigned long long)((fa->base_pfn + k) << FRAME_SHIFT),
			      is_managed(fa, k) ? "already free (double free)"
						: "reserved or not RAM");
			return;
		}
	}
	for (size_t k = i; k < i + n; k++)
		bit_clear(fa, k);
	fa->free += n;
	if (i / FRAME_BITS_PER_WORD < fa->hint)
		fa->hint = i / FRAME_BITS_PER_WORD;
	spin_unlock_irqrestore(&fa->lock, flags);
}

bool frame_is_free(struct frame_alloc *fa, uint64_t pa)
{
	uint64_t pfn = pa >> FRAME_SHIFT;
	unsigned long flags;
	bool r;

	if (pfn < fa->base_pfn || pfn - fa->base_pfn >= fa->nframes)
		return false;
	flags = spin_lock_irqsave(&fa->lock);
	r = !bit_get(fa, (size_t)(pfn - fa->base_pfn));
	spin_unlock_irqrestore(&fa->lock, flags);
	return r;
}

static int check_locked(const struct frame_alloc *fa)
{
	size_t words = words_for(fa->nframes), clear = 0, managed = 0;

	/* Bits past nframes in the last word stay set (never managed). */
	if (fa->nframes % FRAME_BITS_PER_WORD) {
		uint64_t tail = ~0ull << (fa->nframes % FRAME_BITS_PER_WORD);

		if ((fa->bitmap[words - 1] & tail) != tail)
			return FRAME_CHECK_TAIL;
	}
	for (size_t w = 0; w < words; w++) {
		uint64_t used = fa->bitmap[w], man = fa->managed[w];

		if (~used & ~man)
			return FRAME_CHECK_UNMANAGED_FREE;
		if (w < fa->hint && used != WORD_FULL)
			return FRAME_CHECK_HINT;
		clear += popcount64(~used);
		managed += popcount64(man);
	}
	if (clear != fa->free)
		return FRAME_CHECK_FREE_COUNT;
	if (managed != fa->total)
		return FRAME_CHECK_TOTAL_COUNT;
	return FRAME_CHECK_OK;
}

int frame_alloc_check(struct frame_alloc *fa)
{
	unsigned long flags = spin_lock_irqsave(&fa->lock);
	int r = check_locked(fa);

	spin_unlock_irqrestore(&fa->lock, flags);
	return r;
}

size_t frame_free_count(struct frame_alloc *fa)
{
	return fa->free;
}

size_t frame_total_count(struct frame_alloc *fa)
{
	return fa->total;
}

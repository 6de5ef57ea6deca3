/*
 * hooks.h - the calls the code under test makes into the model checker.
 *
 * tests/model/atomics.h (forced into every file of the model build) turns
 * each atomic operation, atomic_init, fence, memcpy and memset into one of
 * these; tests/model/override/spinlock.h does the same for spin locks.
 * Each call carries its call site: a static struct per expansion
 * (MODEL_SITE_), so the checker can name the source line in traces and
 * cache per site whether a mutation applies (tests/model/mutation.c).
 */
#ifndef HYPHAE_MODEL_HOOKS_H
#define HYPHAE_MODEL_HOOKS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* One call site of an atomic operation or a model hook. */
struct model_site {
	const char *file;
	int line;
	const char *func;
	/* The checker's cache: the mutation generation it was matched in,
	 * and whether the active mutation applies here. */
	int mut_cache;
	int mut_match;
};

#define MODEL_SITE_							\
	__extension__ ({						\
		static struct model_site model_site_ = {		\
			__FILE__, __LINE__, __func__, 0, 0		\
		};							\
		&model_site_;						\
	})

enum model_rmw {
	MODEL_RMW_XCHG,
	MODEL_RMW_ADD,
	MODEL_RMW_SUB,
	MODEL_RMW_AND,
	MODEL_RMW_OR,
	MODEL_RMW_XOR,
};

/* Atomic operations (tests/model/memory.c).  Values travel through a
 * temporary of the object's type: in, out, or the RMW operand in and the
 * old value out. */
void model_atomic_load(struct model_site *site, const void *obj, void *out,
		       size_t size, int order);
void model_atomic_store(struct model_site *site, void *obj, const void *in,
			size_t size, int order);
void model_atomic_rmw(struct model_site *site, enum model_rmw op, void *obj,
		      void *inout, size_t size, int order);
bool model_atomic_cas(struct model_site *site, bool weak, void *obj,
		      void *expected, const void *desired, size_t size,
		      int success, int failure);
void model_atomic_init(struct model_site *site, void *obj, const void *in,
		       size_t size);
void model_atomic_fence(struct model_site *site, int order);

/* Checker locks (tests/model/memory.c). */
void model_spin_init(struct model_site *site, atomic_bool *word);
bool model_spin_trylock(struct model_site *site, atomic_bool *word);
void model_spin_lock(struct model_site *site, atomic_bool *word);
void model_spin_unlock(struct model_site *site, atomic_bool *word);
bool model_spin_is_locked(struct model_site *site, atomic_bool *word);

/* Copies checked for races like plain accesses (tests/model/shadow.c). */
void *model_memcpy(struct model_site *site, void *dst, const void *src,
		   size_t n);
void *model_memset(struct model_site *site, void *dst, int c, size_t n);

#endif /* HYPHAE_MODEL_HOOKS_H */

/*
 * atomics.h - the model build's <stdatomic.h>: every atomic operation of
 * the code under test becomes a call into the model checker.
 *
 * tests/model compiles the real sched/, timer/, rt/ and lib/ sources with
 * `-include tests/model/atomics.h`.  This header includes the C library's
 * <stdatomic.h> first (its include guard then makes the sources' own
 * #include a no-op) and replaces each atomic_*_explicit macro, the
 * seq_cst shorthands, atomic_init and the fences with calls that hand the
 * checker the operation, the object's address and size, the memory order
 * and the call site (file, line, function).  The checker decides when the
 * operation happens (it is a scheduling point), what value it reads (store
 * buffers in TSO mode) and which happens-before edges it makes.
 *
 * The call site is a static struct per expansion (hooks.h).  Values
 * travel through a temporary of the object's own (unqualified) type, so
 * pointers, bools and integers of 1 to 8 bytes all work unchanged.
 *
 * memcpy and memset are routed through the checker too, so copies of
 * shared data (a task's output, a oneshot's value) are checked for data
 * races like the compiler-instrumented plain accesses (tests/model/shadow.c).
 */
#ifndef HYPHAE_MODEL_ATOMICS_H
#define HYPHAE_MODEL_ATOMICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tests/model/hooks.h"

/* The unqualified type of *p (the comma drops _Atomic). */
#define MODEL_TYPE_(p)	__typeof__((void)0, *(p))

#undef atomic_load_explicit
#define atomic_load_explicit(p, mo) __extension__ ({			\
	MODEL_TYPE_(p) model_r_;					\
	model_atomic_load(MODEL_SITE_, (const void *)(p), &model_r_,	\
			  sizeof(model_r_), (mo));			\
	model_r_; })

#undef atomic_store_explicit
#define atomic_store_explicit(p, v, mo) __extension__ ({		\
	MODEL_TYPE_(p) model_v_ = (v);					\
	model_atomic_store(MODEL_SITE_, (void *)(p), &model_v_,		\
			   sizeof(model_v_), (mo));			\
	(void)0; })

#define MODEL_RMW_(op, p, v, mo) __extension__ ({			\
	MODEL_TYPE_(p) model_v_ = (v);					\
	model_atomic_rmw(MODEL_SITE_, (op), (void *)(p), &model_v_,	\
			 sizeof(model_v_), (mo));			\
	model_v_; })

#undef atomic_exchange_explicit
#define atomic_exchange_explicit(p, v, mo)	MODEL_RMW_(MODEL_RMW_XCHG, p, v, mo)
#undef atomic_fetch_add_explicit
#define atomic_fetch_add_explicit(p, v, mo)	MODEL_RMW_(MODEL_RMW_ADD, p, v, mo)
#undef atomic_fetch_sub_explicit
#define atomic_fetch_sub_explicit(p, v, mo)	MODEL_RMW_(MODEL_RMW_SUB, p, v, mo)
#undef atomic_fetch_and_explicit
#define atomic_fetch_and_explicit(p, v, mo)	MODEL_RMW_(MODEL_RMW_AND, p, v, mo)
#undef atomic_fetch_or_explicit
#define atomic_fetch_or_explicit(p, v, mo)	MODEL_RMW_(MODEL_RMW_OR, p, v, mo)
#undef atomic_fetch_xor_explicit
#define atomic_fetch_xor_explicit(p, v, mo)	MODEL_RMW_(MODEL_RMW_XOR, p, v, mo)

#define MODEL_CAS_(weak, p, e, d, s, f) __extension__ ({		\
	MODEL_TYPE_(p) model_d_ = (d);					\
	model_atomic_cas(MODEL_SITE_, (weak), (void *)(p), (e),	\
			 &model_d_, sizeof(model_d_), (s), (f)); })

#undef atomic_compare_exchange_strong_explicit
#define atomic_compare_exchange_strong_explicit(p, e, d, s, f)		\
	MODEL_CAS_(false, p, e, d, s, f)
#undef atomic_compare_exchange_weak_explicit
#define atomic_compare_exchange_weak_explicit(p, e, d, s, f)		\
	MODEL_CAS_(true, p, e, d, s, f)

/* The seq_cst shorthands. */
#undef atomic_load
#define atomic_load(p)		atomic_load_explicit(p, memory_order_seq_cst)
#undef atomic_store
#define atomic_store(p, v)	atomic_store_explicit(p, v, memory_order_seq_cst)
#undef atomic_exchange
#define atomic_exchange(p, v)	atomic_exchange_explicit(p, v, memory_order_seq_cst)
#undef atomic_fetch_add
#define atomic_fetch_add(p, v)	atomic_fetch_add_explicit(p, v, memory_order_seq_cst)
#undef atomic_fetch_sub
#define atomic_fetch_sub(p, v)	atomic_fetch_sub_explicit(p, v, memory_order_seq_cst)
#undef atomic_fetch_and
#define atomic_fetch_and(p, v)	atomic_fetch_and_explicit(p, v, memory_order_seq_cst)
#undef atomic_fetch_or
#define atomic_fetch_or(p, v)	atomic_fetch_or_explicit(p, v, memory_order_seq_cst)
#undef atomic_fetch_xor
#define atomic_fetch_xor(p, v)	atomic_fetch_xor_explicit(p, v, memory_order_seq_cst)
#undef atomic_compare_exchange_strong
#define atomic_compare_exchange_strong(p, e, d)				\
	atomic_compare_exchange_strong_explicit(p, e, d, memory_order_seq_cst, \
						memory_order_seq_cst)
#undef atomic_compare_exchange_weak
#define atomic_compare_exchange_weak(p, e, d)				\
	atomic_compare_exchange_weak_explicit(p, e, d, memory_order_seq_cst, \
					      memory_order_seq_cst)

/* Initialisation is a plain (non-atomic) store, and no scheduling point. */
#undef atomic_init
#define atomic_init(p, v) __extension__ ({				\
	MODEL_TYPE_(p) model_v_ = (v);					\
	model_atomic_init(MODEL_SITE_, (void *)(p), &model_v_,		\
			  sizeof(model_v_));				\
	(void)0; })

#undef atomic_thread_fence
#define atomic_thread_fence(mo)	model_atomic_fence(MODEL_SITE_, (mo))
/* Orders against a signal handler on the same thread: nothing to model. */
#undef atomic_signal_fence
#define atomic_signal_fence(mo)	((void)(mo))

/* Copies of shared memory are checked for races like plain accesses.
 * The prototypes come first, so a later declaration (lib/string.h's) is
 * not rewritten by the macros. */
#include <string.h>
#include "lib/string.h"
#undef memcpy
#define memcpy(d, s, n)	model_memcpy(MODEL_SITE_, (d), (s), (n))
#undef memset
#define memset(d, c, n)	model_memset(MODEL_SITE_, (d), (c), (n))

#endif /* HYPHAE_MODEL_ATOMICS_H */

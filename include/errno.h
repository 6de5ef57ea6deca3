/*
 * errno.h - error codes for expected failures.
 *
 * Functions that can fail for a reason the caller must handle return 0 (or
 * a count) on success and one of these, negated, on failure: -EINVAL for
 * bad input, -ENOMEM when an allocation failed, and so on.  The values
 * match Linux's so a reader knows them; hyphae_strerror() names them.
 */
#ifndef HYPHAE_ERRNO_H
#define HYPHAE_ERRNO_H

/*
 * -Iinclude puts this file in front of the C library's <errno.h>; a hosted
 * build (tests, benchmarks) takes the library's, whose values on Linux are
 * these same numbers, and gets `errno` too.
 */
#if __STDC_HOSTED__
#include_next <errno.h>
#else

#define EPERM		1	/* not allowed in this state */
#define ENOENT		2	/* no such entry (command, core, ...) */
#define EIO		5	/* hardware did not answer */
#define EAGAIN		11	/* try again: resource busy or empty */
#define ENOMEM		12	/* out of memory */
#define EFAULT		14	/* a CPU exception ended it (a faulted task) */
#define EBUSY		16	/* already taken / already set */
#define EEXIST		17	/* already exists */
#define EINVAL		22	/* invalid argument */
#define ENOSPC		28	/* no room left */
#define EPIPE		32	/* closed: the channel, semaphore or map no longer takes waiters */
#define ERANGE		34	/* value out of range / would overflow */
#define ENAMETOOLONG	36	/* input line or name too long */
#define ENOSYS		38	/* not implemented on this target */
#define ECANCELED	125	/* operation was cancelled */
#define ETIMEDOUT	110	/* deadline passed */
#define EOVERFLOW	75	/* result does not fit */

#endif /* __STDC_HOSTED__ */
#endif /* HYPHAE_ERRNO_H */

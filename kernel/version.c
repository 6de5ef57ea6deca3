/*
 * version.c - the one source that carries the version: the build passes
 * `git describe` and the date to this file alone (mk/kernel.mk), so only it
 * recompiles when they change.
 */
#include "kernel/kernel.h"

#ifndef HYPHAE_VERSION
#define HYPHAE_VERSION "unknown"
#endif
#ifndef HYPHAE_BUILD_DATE
#define HYPHAE_BUILD_DATE "unknown date"
#endif

const char kernel_version[] = HYPHAE_VERSION;
const char kernel_build_date[] = HYPHAE_BUILD_DATE;

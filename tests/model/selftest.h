/*
 * selftest.h - litmus tests of the checker (tests/model/selftest.c): a
 * scenario and whether its search must fail under SC and under TSO.
 */
#ifndef HYPHAE_MODEL_SELFTEST_H
#define HYPHAE_MODEL_SELFTEST_H

#include <stdbool.h>

#include "tests/model/model.h"

struct model_litmus {
	struct model_scenario s;
	bool fails_sc, fails_tso;
};

extern const struct model_litmus model_litmus[];
extern const unsigned model_n_litmus;

#endif /* HYPHAE_MODEL_SELFTEST_H */

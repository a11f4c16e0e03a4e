/* SPDX-License-Identifier: MIT */
/* A valid HSS key and signature of msg from partial trees: the real leaf
 * of index 1 at each level, fixed siblings, the root computed upward (as
 * tests/unit/test-hss.c builds them), so that the verification cost of
 * any parameter set can be measured without building a whole tree.
 * Exits on failure: benchmarks only. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "core/hss.h"

void sfu_bench_hss_partial(unsigned L, const uint32_t *lms, const uint32_t *ots, uint8_t pub[SFU_HSS_PUBLIC_KEY_SIZE],
                           const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t *ret_len);

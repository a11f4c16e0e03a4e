/* SPDX-License-Identifier: MIT */
/* Deterministic fault points for the reliability tests.  Compiled in only
 * with ./configure --enable-fault-injection (the test build); in a release
 * build every SFU_FAULT() is the constant 0.
 *
 * SFU_FAULT=POINT:ACTION[:COUNT] in the environment arms one point; when
 * execution reaches it for the COUNT-th time (default 1) ACTION happens:
 *   kill   - SIGKILL ourselves (a power cut, as far as this process knows)
 *   pause  - stop with SIGSTOP (a test resumes or kills us)
 *   hold   - this thread sleeps SFU_FAULT_HOLD_MS (the others run on: the
 *            control plane answers meanwhile)
 *   enospc - the operation fails with ENOSPC
 *   eio    - the operation fails with EIO
 * SFU_FAULT() returns the negative errno to fail with, or 0. */
#pragma once

#define SFU_FAULT_HOLD_MS 2000

#ifdef SFU_FAULT_INJECTION
int sfu_fault(const char *point);
#define SFU_FAULT(point) sfu_fault(point)
#else
#define SFU_FAULT(point) 0
#endif

// core/aio/aio_wait.h — follows QEMU 10.2.0 include/block/aio-wait.h: waiting in the
// main loop (or a context's home thread) for a condition that other threads change,
// kicked by aio_wait_kick. Modern contexts only: AIO_WAIT_WHILE came in QEMU 3.0
// (7719f3c968), so 2.8.1 has none of this; a legacy context fails naming that.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// QEMU's global_aio_wait lives in the AioRuntime (no globals here), and QEMU's macro
// is a function taking the condition as a callable, evaluated as the macro does.
//
// Threading (as QEMU): AIO_WAIT_WHILE runs in `ctx`'s home thread (it polls `ctx`),
// or in the main loop's thread (it polls the runtime's main context, which then must
// be set: AioRuntime::set_main_context). Whoever changes what `cond` reads must call
// aio_wait_kick afterwards, from any thread. QEMU forbids waits between two
// IOThreads; so does this.
#ifndef AIOSIM_CORE_AIO_AIO_WAIT_H_
#define AIOSIM_CORE_AIO_AIO_WAIT_H_

#include <functional>

#include "core/aio/aio.h"

namespace aiosim::core {

// QEMU's AIO_WAIT_WHILE(ctx, cond) (= AIO_WAIT_WHILE_UNLOCKED since 9.0): counts
// itself as a waiter (num_waiters, then a full barrier), then while cond(): polls
// `ctx` blocking if this thread is its home, else the main context. Returns whether
// it polled at all. `ctx` may be null (QEMU: several contexts are involved): then it
// polls the main context. REQUIRES: `rt`'s main context is set unless ctx's home
// thread calls.
bool AIO_WAIT_WHILE(AioRuntime* rt, AioContext* ctx, const std::function<bool()>& cond);

// Wakes an AIO_WAIT_WHILE of `rt`, if any waits: a full barrier, then, if
// num_waiters is non-zero, a one-shot no-op BH in the main context. Only the main
// context is kicked (a waiter in an IOThread is woken by its own context's events).
void aio_wait_kick(AioRuntime* rt);

// Runs cb(opaque) in `ctx`'s home thread (a one-shot BH) and waits in the main loop
// until it has returned. REQUIRES: the calling thread's current context is the main
// context.
void aio_wait_bh_oneshot(AioContext* ctx, QEMUBHFunc* cb, void* opaque);

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_AIO_AIO_WAIT_H_

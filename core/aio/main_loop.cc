// core/aio/main_loop.cc — see main_loop.h. Follows QEMU 2.8.1 main-loop.c
// (os_host_main_loop_wait) and the order of glib's g_main_context_iteration.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/aio/main_loop.h"

#include <cstdio>

#include "absl/container/inlined_vector.h"

namespace aiosim::core {

bool main_loop_wait(MainLoop* loop, bool nonblocking) {
  AioContext* ctx = loop->ctx;

  // g_main_context_prepare: a source already ready is not prepared again.
  int timeout_ms = nonblocking ? 0 : -1;
  if (!loop->source_ready) {
    int source_timeout_ms = -1;
    if (aio_ctx_prepare(ctx, &source_timeout_ms)) loop->source_ready = true;
    if (!nonblocking) timeout_ms = source_timeout_ms;
  }
  if (loop->source_ready) timeout_ms = 0;

  // g_main_context_query: the source's poll fds (g_source_add_poll'ed nodes).
  absl::InlinedVector<PollFd, 8> pollfds;
  aio_ctx_query(ctx, &pollfds);

  // os_host_main_loop_wait. A busy I/O thread (or one wrongly busy-waiting) would
  // otherwise keep the BQL from the vCPU threads for good.
  int64_t timeout_ns = timeout_ms < 0 ? -1 : timeout_ms * SCALE_MS;
  if (timeout_ns == 0 && loop->spin_counter > MAX_MAIN_LOOP_SPIN) {
    if (!loop->spin_notified && !loop->qtest) {
      std::fprintf(stderr, "main-loop: WARNING: I/O thread spun for %d iterations\n",
                   MAX_MAIN_LOOP_SPIN);
      loop->spin_notified = true;
    }
    timeout_ns = SCALE_MS;
  }
  // Only a poll that may wait drops the BQL; a zero-timeout iteration keeps it from
  // prepare through dispatch.
  if (timeout_ns != 0) {
    loop->spin_counter = 0;
    if (loop->iothread_lock != nullptr) {
      // The runtime's own BQL goes through bql_unlock, which clears the holder flag.
      if (loop->iothread_lock == ctx->runtime->bql()) {
        bql_unlock(ctx->runtime);
      } else {
        qemu_mutex_unlock(loop->iothread_lock);
      }
    }
  } else {
    loop->spin_counter++;
  }
  int ret = ctx->runtime->platform()->poller().Poll(pollfds.data(), pollfds.size(),
                                                    timeout_ns);
  if (timeout_ns != 0 && loop->iothread_lock != nullptr) {
    if (loop->iothread_lock == ctx->runtime->bql()) {
      bql_lock(ctx->runtime);
    } else {
      qemu_mutex_lock(loop->iothread_lock);
    }
  }

  // g_main_context_check: copy revents into the GPollFDs, then ask the source.
  if (ret > 0) {
    for (const PollFd& pfd : pollfds) {
      if (pfd.revents == 0) continue;
      aio_ctx_set_revents(ctx, pfd);
    }
  }
  if (!loop->source_ready && aio_ctx_check(ctx)) loop->source_ready = true;

  // g_main_context_dispatch.
  if (!loop->source_ready) return false;
  loop->source_ready = false;
  aio_ctx_dispatch(ctx);
  return true;
}

}  // namespace aiosim::core

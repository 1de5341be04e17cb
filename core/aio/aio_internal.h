// core/aio/aio_internal.h — the legacy generation's private structures (QEMU keeps
// them inside async.c and aio-posix.c). For the core's own files, its white-box tests
// and, later, the simulator's scenarios; not part of the public API.
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_CORE_AIO_AIO_INTERNAL_H_
#define AIOSIM_CORE_AIO_AIO_INTERNAL_H_

#include "core/aio/aio.h"

namespace aiosim::core {

// QEMU 2.8.1 async.c's struct QEMUBH. ctx, cb and opaque never change after the BH
// is published.
struct QEMUBH {
  AioContext* ctx = nullptr;
  QEMUBHFunc* cb = nullptr;
  void* opaque = nullptr;
  Shared<QEMUBH*> next{nullptr};
  // Set by xchg / mb_set, cleared by xchg in aio_bh_poll and by plain stores in
  // cancel and delete.
  Atomic<bool> scheduled{false};
  Shared<bool> idle{false};
  Shared<bool> deleted{false};
  // With AIO_REVERT_R1 only: `ctx` again, for the read that 2.0 makes after the
  // exchange. QEMU reads the plain field; here that read must be a scheduling point
  // that can find the BH freed (a plain field of a freed block is just poison), so it
  // goes through a Shared copy, written in bh_alloc under the switch only.
  Shared<AioContext*> ctx_late{nullptr};
};

// QEMU 2.8.1 aio-posix.c's struct AioHandler. `pfd.fd` never changes; the rest is
// rewritten in place by aio_set_fd_handler (the root of R11).
struct AioHandler {
  int fd = -1;
  Shared<int16_t> events{0};
  Shared<int16_t> revents{0};
  Shared<IOHandler*> io_read{nullptr};
  Shared<IOHandler*> io_write{nullptr};
  // Set for nodes made by aio_set_event_notifier: called with the notifier instead
  // of io_read(opaque). QEMU casts the handler's type instead; calling through a
  // cast function pointer is undefined behaviour in C++.
  Shared<EventNotifierHandler*> io_notify{nullptr};
  Shared<int> deleted{0};
  Shared<void*> opaque{nullptr};
  Shared<bool> is_external{false};
  Shared<AioHandler*> next{nullptr};
};

// With AIO_REVERT_R3 (QEMU 2.1-2.3 async.c): sets ctx->dispatching; entering a
// phase that may block (false) is followed by a full barrier, so that the flag is
// visible before e.g. bh->scheduled is read.
void aio_set_dispatching(AioContext* ctx, bool dispatching);

// For the main-loop driver (glib's g_source_add_poll set): every registered,
// undeleted node of `ctx`, newest first.
template <class Fn>
void aio_for_each_gsource_poll(AioContext* ctx, Fn&& fn) {
  for (AioHandler* node = ctx->aio_handlers.Load(); node != nullptr;
       node = node->next.Load()) {
    if (!node->deleted.Load()) fn(node);
  }
}

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_AIO_AIO_INTERNAL_H_

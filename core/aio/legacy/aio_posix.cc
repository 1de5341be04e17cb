// core/aio/legacy/aio_posix.cc — follows QEMU 2.8.1 aio-posix.c (the legacy
// generation): fd handlers, aio_dispatch and aio_poll, on the platform's Poller.
// QEMU's optional epoll path (used from 64 fds on) is not followed: polling goes
// through Poller::Poll, which the host implements with ppoll.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Written from QEMU-SEMANTICS.md §1.4–1.5; names are QEMU's, the code is ours.
#include "absl/container/inlined_vector.h"
#include "core/aio/aio.h"
#include "core/aio/legacy/aio_internal.h"
#include "core/aio/names.h"
#include "core/platform/check.h"

namespace aiosim::core::legacy {

static AioHandler* find_aio_handler(AioContext* ctx, int fd) {
  for (AioHandler* node = ctx->aio_handlers.Load(); node != nullptr;
       node = node->next.Load()) {
    if (node->fd == fd && !node->deleted.Load()) return node;
  }
  return nullptr;
}

static void aio_handler_unlink(AioContext* ctx, AioHandler* target) {
  Shared<AioHandler*>* link = &ctx->aio_handlers;
  while (AioHandler* node = link->Load()) {
    if (node == target) {
      link->Store(node->next.Load());
      return;
    }
    link = &node->next;
  }
  AIOSIM_ASSERT(!"aio_handler_unlink: node not on the list");
}

static void aio_set_fd_handler_common(AioContext* ctx, int fd, bool is_external,
                                      IOHandler* io_read, IOHandler* io_write,
                                      EventNotifierHandler* io_notify, void* opaque) {
  AioHandler* node = find_aio_handler(ctx, fd);
  bool deleted = false;
  const bool has_read = io_read != nullptr || io_notify != nullptr;

  if (!has_read && io_write == nullptr) {  // removal
    if (node == nullptr) return;
    // (QEMU also calls g_source_remove_poll here; our GSource poll set is the list of
    // undeleted nodes, so marking or unlinking the node removes it.)
    if (ctx->walking_handlers.Load() > 0) {
      // Someone is walking the list: the walker that finishes last frees the node.
      node->deleted.Store(1);
      node->revents.Store(0);
    } else {
      aio_handler_unlink(ctx, node);
      deleted = true;
    }
  } else {
    if (node == nullptr) {
      node = platform_new<AioHandler>();
      if (NamesWanted()) {  // not QEMU: names for the simulator's reports
        FieldNamer("handler(fd " + std::to_string(fd) + ")")(node->events, "events")(
            node->revents, "revents")(node->io_read, "io_read")(node->io_write,
                                                                "io_write")(
            node->io_notify, "io_notify")(node->deleted, "deleted")(node->opaque,
                                                                    "opaque")(
            node->is_external, "is_external")(node->next, "next");
      }
      node->fd = fd;
      node->next.Store(ctx->aio_handlers.Load());
      ctx->aio_handlers.Store(node);
    }
    // Overwritten in place, even while another thread may be dispatching this node
    // (QEMU 2.8 behaviour; copy-on-write came with 4.0, R11).
    node->io_read.Store(io_read);
    node->io_notify.Store(io_notify);
    node->io_write.Store(io_write);
    node->opaque.Store(opaque);
    node->is_external.Store(is_external);
    int16_t events = has_read ? (G_IO_IN | G_IO_HUP | G_IO_ERR) : 0;
    if (io_write != nullptr) events |= G_IO_OUT | G_IO_ERR;
    node->events.Store(events);
  }

  aio_notify(ctx);
  if (deleted) platform_delete(node);  // after the last use of the node (0ed39f3df2)
}

void aio_set_fd_handler(AioContext* ctx, int fd, bool is_external, IOHandler* io_read,
                        IOHandler* io_write, void* opaque) {
  aio_set_fd_handler_common(ctx, fd, is_external, io_read, io_write, nullptr, opaque);
}

void aio_set_event_notifier(AioContext* ctx, EventNotifier* notifier, bool is_external,
                            EventNotifierHandler* io_read) {
  aio_set_fd_handler_common(ctx, event_notifier_get_fd(notifier), is_external, nullptr,
                            nullptr, io_read, notifier);
}

// ---- external clients ------------------------------------------------------------------

void aio_disable_external(AioContext* ctx) { atomic_inc(&ctx->external_disable_cnt); }

// QEMU 2.8 does not call aio_notify here, so a loop that built its poll set while
// external fds were disabled stays blocked (R10, fixed in 2.10). The assertion reads
// the counter plainly, as QEMU's does.
void aio_enable_external(AioContext* ctx) {
  if (ctx->switches & AIO_FIX_R10) {
    // 2.10: the decrement returns the old count; the last enable wakes the loop so
    // that it rebuilds its poll set with the external fds.
    int old = atomic_fetch_dec(&ctx->external_disable_cnt);
    AIOSIM_ASSERT(old > 0);
    if (old == 1) aio_notify(ctx);
    return;
  }
  AIOSIM_ASSERT(ctx->external_disable_cnt.PlainLoad() > 0);
  atomic_dec(&ctx->external_disable_cnt);
}

bool aio_external_disabled(AioContext* ctx) {
  return atomic_read(&ctx->external_disable_cnt) != 0;
}

bool aio_node_check(AioContext* ctx, bool is_external) {
  return !is_external || atomic_read(&ctx->external_disable_cnt) == 0;
}

// ---- dispatch --------------------------------------------------------------------------

bool aio_prepare(AioContext*) { return false; }

// QEMU's `node->io_read` test: for an event notifier's node the handler is in
// io_notify (see AioHandler).
static bool node_has_io_read(AioHandler* node) {
  return node->io_read.Load() != nullptr || node->io_notify.Load() != nullptr;
}

// The conditions below test their terms in QEMU's order, with QEMU's short circuits:
// in the simulator each read is a scheduling point, so the order is observable.
bool aio_pending(AioContext* ctx) {
  for (AioHandler* node = ctx->aio_handlers.Load(); node != nullptr;
       node = node->next.Load()) {
    int16_t revents = node->revents.Load() & node->events.Load();
    if ((revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && node_has_io_read(node) &&
        aio_node_check(ctx, node->is_external.Load())) {
      return true;
    }
    if ((revents & (G_IO_OUT | G_IO_ERR)) && node->io_write.Load() != nullptr &&
        aio_node_check(ctx, node->is_external.Load())) {
      return true;
    }
  }
  return false;
}

bool aio_dispatch(AioContext* ctx) {
  bool progress = aio_bh_poll(ctx) != 0;

  // aio_set_fd_handler may run inside any callback: hold walking_handlers around
  // each node so that a removal only marks it, and free it here once nobody walks.
  AioHandler* node = ctx->aio_handlers.Load();
  while (node != nullptr) {
    ctx->walking_handlers.Store(ctx->walking_handlers.Load() + 1);

    int16_t revents = node->revents.Load() & node->events.Load();
    node->revents.Store(0);

    if (!node->deleted.Load() && (revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)) &&
        aio_node_check(ctx, node->is_external.Load()) && node_has_io_read(node)) {
      if (EventNotifierHandler* io_notify = node->io_notify.Load()) {
        io_notify(static_cast<EventNotifier*>(node->opaque.Load()));
      } else {
        node->io_read.Load()(node->opaque.Load());
      }
      // The context's own notifier is aio_notify, which is not progress. As in QEMU,
      // `opaque` is read again after the callback, which may have changed it
      // (aio_set_fd_handler rewrites the node in place).
      if (node->opaque.Load() != ctx->notifier.get()) progress = true;
    }
    if (!node->deleted.Load() && (revents & (G_IO_OUT | G_IO_ERR)) &&
        aio_node_check(ctx, node->is_external.Load()) && node->io_write.Load() != nullptr) {
      node->io_write.Load()(node->opaque.Load());
      progress = true;
    }

    AioHandler* tmp = node;
    node = node->next.Load();
    ctx->walking_handlers.Store(ctx->walking_handlers.Load() - 1);
    if (ctx->walking_handlers.Load() == 0 && tmp->deleted.Load()) {
      aio_handler_unlink(ctx, tmp);
      platform_delete(tmp);
    }
  }

  progress |= timerlistgroup_run_timers(&ctx->tlg);
  return progress;
}

bool aio_poll(AioContext* ctx, bool blocking) {
  const uint32_t sw = ctx->switches;
  // 4.0: only the home thread may poll, blocking or not; 3.1 checked blocking polls.
  if (sw & AIO_FIX_R9_HOME) AIOSIM_ASSERT(in_aio_context_home_thread(ctx));

  aio_context_acquire(ctx);

  // 3.1: a blocking poll, which may sleep, only in the home thread.
  if (blocking && (sw & AIO_FIX_R9_ACCEPT)) AIOSIM_ASSERT(in_aio_context_home_thread(ctx));

  bool was_dispatching = false;
  if (sw & AIO_REVERT_R3) {
    // 2.1-2.3: a non-blocking poll counts as dispatching (it will not sleep); a
    // blocking one clears the flag, also for an outer poll it is nested in.
    was_dispatching = ctx->dispatching.Load();
    aio_set_dispatching(ctx, !blocking);
  } else if (blocking) {
    // A blocking poll cannot see new events until its poll step returns, so from
    // here on aio_notify must write the eventfd. (Written here, not in a helper: the
    // race detector's known races name the function of each access.)
    if (sw & AIO_FIX_R12) {
      // 5.0: a plain read-modify-write, valid with one writer only, then a full
      // barrier before the BH flags are read for the timeout.
      atomic_set(&ctx->notify_me, atomic_read(&ctx->notify_me) + 2u);
      smp_mb();
    } else {
      atomic_add(&ctx->notify_me, 2u);
    }
  }

  ctx->walking_handlers.Store(ctx->walking_handlers.Load() + 1);

  // QEMU keeps these arrays in thread-local storage; a local array is equivalent and
  // also works when simulated threads share one OS thread.
  absl::InlinedVector<PollFd, 8> pollfds;
  absl::InlinedVector<AioHandler*, 8> nodes;
  for (AioHandler* node = ctx->aio_handlers.Load(); node != nullptr;
       node = node->next.Load()) {
    if (!node->deleted.Load() && node->events.Load() != 0 &&
        aio_node_check(ctx, node->is_external.Load())) {
      // add_pollfd: reads `events` again, as QEMU does.
      pollfds.push_back(PollFd{node->fd, node->events.Load(), 0});
      nodes.push_back(node);
    }
  }

  const int64_t timeout = blocking ? aio_compute_timeout(ctx) : 0;

  // Do not hold the context while waiting (2.8).
  if (timeout != 0) aio_context_release(ctx);
  int ret = ctx->runtime->platform()->poller().Poll(pollfds.data(), pollfds.size(), timeout);
  if (blocking) {
    if ((sw & AIO_REVERT_R3) == 0) {
      if (sw & AIO_FIX_R12) {
        // 5.0: the poll completes before the count drops (a store-release).
        atomic_store_release(&ctx->notify_me, atomic_read(&ctx->notify_me) - 2u);
      } else {
        atomic_sub(&ctx->notify_me, 2u);
      }
    }
    // 3.1: only a blocking poll, which notify_me announced, accepts the wakeup.
    if (sw & AIO_FIX_R9_ACCEPT) aio_notify_accept(ctx);
  }
  if (timeout != 0) aio_context_acquire(ctx);

  // Every poll clears the eventfd, non-blocking ones too: in 2.4–3.0 that lets a
  // non-blocking aio_poll in another thread eat a blocking poll's wakeup (R9).
  if ((sw & AIO_FIX_R9_ACCEPT) == 0) aio_notify_accept(ctx);

  if (ret > 0) {
    for (size_t i = 0; i < pollfds.size(); i++) nodes[i]->revents.Store(pollfds[i].revents);
  }

  ctx->walking_handlers.Store(ctx->walking_handlers.Load() - 1);

  // Dispatch even when no fd is ready, to run BHs and timers.
  if (sw & AIO_REVERT_R3) aio_set_dispatching(ctx, true);
  bool progress = aio_dispatch(ctx);
  if (sw & AIO_REVERT_R3) aio_set_dispatching(ctx, was_dispatching);

  aio_context_release(ctx);
  return progress;
}

}  // namespace aiosim::core::legacy

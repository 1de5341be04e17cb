// core/aio/modern/aio_posix.cc — follows QEMU 10.2.0 util/aio-posix.c and
// util/fdmon-poll.c (the modern generation): copy-on-write fd handlers under
// ctx->list_lock with the deleted list, adaptive polling, aio_dispatch and aio_poll,
// on the platform's Poller. One fd monitor, poll (fdmon_poll_ops): no epoll upgrade,
// no io_uring, so `need_wait` is poll_disable_cnt != 0, idle poll handlers are never
// removed, and there is no fdmon dispatch step.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Written from docs/modern-sources.md §2.3–2.4 and checked against QEMU's
// util/aio-posix.c; names are QEMU's, the code is ours.
#include "absl/container/inlined_vector.h"
#include "core/aio/aio.h"
#include "core/aio/modern/aio_internal.h"
#include "core/aio/names.h"
#include "core/platform/check.h"

namespace aiosim::core::modern {

bool aio_test_skip_notified_recheck = false;

// Stop userspace polling on a handler idle this long (only with an fd monitor that
// polls, i.e. never here).
constexpr int64_t POLL_IDLE_INTERVAL_NS = 7 * 1000 * SCALE_MS;

static bool aio_poll_disabled(AioContext* ctx) {
  return qatomic_read(&ctx->poll_disable_cnt) != 0;
}

// fdmon_poll_ops.need_wait.
static bool need_wait(AioContext* ctx) { return aio_poll_disabled(ctx); }

// fdmon_supports_polling: need_wait is aio_poll_disabled for poll.
static bool fdmon_supports_polling(AioContext*) { return false; }

static int64_t now_ns(AioContext* ctx) {
  return ctx->runtime->platform()->clock().NowNs(QEMU_CLOCK_REALTIME);
}

// ---- the lists -------------------------------------------------------------------------

// Unlinks `node` from the singly linked list at `head` whose links are `next`
// (QEMU's doubly linked QLIST_REMOVE, as a walk from the head; aio_internal.h).
static void shared_list_unlink(Shared<AioHandler*>* head, AioHandler* node,
                               Shared<AioHandler*> AioHandler::*next) {
  for (Shared<AioHandler*>* link = head; AioHandler* n = link->Load(); link = &(n->*next)) {
    if (n == node) {
      link->Store((node->*next).Load());
      break;
    }
  }
  (node->*next).Store(nullptr);
}

// QLIST_SAFE_REMOVE(node, node_ready).
static void ready_list_remove(AioHandler* node) {
  AioHandlerList* list = node->ready_on.Load();
  if (list == nullptr) return;
  shared_list_unlink(&list->first, node, &AioHandler::ready_next);
  node->ready_on.Store(nullptr);
}

static void ready_list_insert_head(AioHandlerList* list, AioHandler* node) {
  node->ready_next.Store(list->first.Load());
  node->ready_on.Store(list);
  list->first.Store(node);
}

// aio_add_ready_handler: off a nested parent's list, onto this one.
static void aio_add_ready_handler(AioHandlerList* ready_list, AioHandler* node,
                                  int16_t revents) {
  ready_list_remove(node);
  node->revents.Store(revents);
  ready_list_insert_head(ready_list, node);
}

static void aio_add_poll_ready_handler(AioHandlerList* ready_list, AioHandler* node) {
  ready_list_remove(node);
  node->poll_ready.Store(true);
  ready_list_insert_head(ready_list, node);
}

// QLIST_SAFE_REMOVE(node, node_poll) / QLIST_INSERT_HEAD(&ctx->poll_aio_handlers).
static void poll_list_remove(AioContext* ctx, AioHandler* node) {
  if (!node->on_poll.Load()) return;
  shared_list_unlink(&ctx->poll_aio_handlers, node, &AioHandler::poll_next);
  node->on_poll.Store(false);
}

static void poll_list_insert_head(AioContext* ctx, AioHandler* node) {
  node->poll_next.Store(ctx->poll_aio_handlers.Load());
  node->on_poll.Store(true);
  ctx->poll_aio_handlers.Store(node);
}

// QLIST_REMOVE(node, node) on ctx->aio_handlers: only with nobody visiting (the
// lockcnt's lock held at a zero count), so plain accesses.
static void handler_list_remove(AioContext* ctx, AioHandler* node) {
  Atomic<AioHandler*>* link = &ctx->aio_handlers;
  while (AioHandler* n = link->PlainLoad()) {
    if (n == node) {
      link->PlainStore(node->node_next.PlainLoad());
      return;
    }
    link = &n->node_next;
  }
  AIOSIM_ASSERT(!"handler_list_remove: node not on ctx->aio_handlers");
}

// QLIST_REMOVE(node, node_deleted).
static void deleted_list_remove(AioContext* ctx, AioHandler* node) {
  Atomic<AioHandler*>* link = &ctx->deleted_aio_handlers;
  while (AioHandler* n = link->PlainLoad()) {
    if (n == node) {
      link->PlainStore(node->deleted_next.PlainLoad());
      node->on_deleted.Store(false);
      return;
    }
    link = &n->deleted_next;
  }
  AIOSIM_ASSERT(!"deleted_list_remove: node not on ctx->deleted_aio_handlers");
}

// The first node of that fd that is not waiting on the deleted list. Under the lock.
static AioHandler* find_aio_handler(AioContext* ctx, int fd) {
  for (AioHandler* node = ctx->aio_handlers.PlainLoad(); node != nullptr;
       node = node->node_next.PlainLoad()) {
    if (node->fd == fd && !node->on_deleted.Load()) return node;
  }
  return nullptr;
}

// Under the lock. Returns whether the caller must free the node (nobody visits the
// list, so it was unlinked at once); otherwise it waits on the deleted list for the
// outermost visitor.
static bool aio_remove_fd_handler(AioContext* ctx, AioHandler* node) {
  node->revents.Store(0);
  node->poll_ready.Store(false);
  if (node->on_deleted.Load()) return false;  // an fd monitor marked it already
  // A visitor may be reading the node. (The count is read relaxed: the free below is
  // ordered after the last visitor's reads only by a control dependency, as in QEMU;
  // docs/modern.md.)
  if (qemu_lockcnt_count(&ctx->list_lock) != 0) {
    node->on_deleted.Store(true);
    node->deleted_next.PlainStore(ctx->deleted_aio_handlers.PlainLoad());
    qatomic_rcu_set(&ctx->deleted_aio_handlers, node);
    return false;
  }
  poll_list_remove(ctx, node);
  handler_list_remove(ctx, node);
  return true;
}

// Any thread. A change publishes a new node in place of the old one; the old one is
// freed at once if nobody visits the list, else by the outermost visitor.
static void aio_set_fd_handler_common(AioContext* ctx, int fd, IOHandler* io_read,
                                      EventNotifierHandler* io_notify, IOHandler* io_write,
                                      AioPollFn* io_poll, IOHandler* io_poll_ready,
                                      EventNotifierHandler* io_notify_poll_ready,
                                      void* opaque) {
  const bool has_read = io_read != nullptr || io_notify != nullptr;
  // Polling only makes sense with a handler for its result.
  if (io_poll != nullptr && io_poll_ready == nullptr && io_notify_poll_ready == nullptr) {
    io_poll = nullptr;
  }

  qemu_lockcnt_lock(&ctx->list_lock);
  AioHandler* node = find_aio_handler(ctx, fd);
  AioHandler* new_node = nullptr;
  int poll_disable_change;

  if (!has_read && io_write == nullptr && io_poll == nullptr) {  // removal
    if (node == nullptr) {
      qemu_lockcnt_unlock(&ctx->list_lock);
      return;  // nothing to remove, and no aio_notify
    }
    node->events.Store(0);  // so that an epoll fd monitor drops the fd
    poll_disable_change = node->io_poll.Load() == nullptr ? -1 : 0;
  } else {
    poll_disable_change = (io_poll == nullptr ? 1 : 0) -
                          (node != nullptr && node->io_poll.Load() == nullptr ? 1 : 0);
    new_node = platform_new<AioHandler>();
    if (NamesWanted()) {  // not QEMU: names for the simulator's reports
      FieldNamer("handler(fd " + std::to_string(fd) + ")")(new_node->events, "events")(
          new_node->revents, "revents")(new_node->io_read, "io_read")(
          new_node->io_write, "io_write")(new_node->io_poll, "io_poll")(
          new_node->io_notify, "io_notify")(new_node->opaque, "opaque")(
          new_node->node_next, "node_next")(new_node->on_deleted, "on_deleted")(
          new_node->deleted_next, "deleted_next")(new_node->on_poll, "on_poll")(
          new_node->poll_next, "poll_next")(new_node->ready_on, "ready_on");
    }
    new_node->io_read.Store(io_read);
    new_node->io_notify.Store(io_notify);
    new_node->io_write.Store(io_write);
    new_node->io_poll.Store(io_poll);
    new_node->io_poll_ready.Store(io_poll_ready);
    new_node->io_notify_poll_ready.Store(io_notify_poll_ready);
    new_node->opaque.Store(opaque);
    new_node->fd = fd;
    if (node != nullptr) {  // the old node's pollfd, copied
      new_node->events.Store(node->events.Load());
      new_node->revents.Store(node->revents.Load());
    }
    int16_t events = has_read ? (G_IO_IN | G_IO_HUP | G_IO_ERR) : 0;
    if (io_write != nullptr) events |= G_IO_OUT | G_IO_ERR;
    new_node->events.Store(events);
    // QLIST_INSERT_HEAD_RCU: the node's fields before the store-release of the head.
    new_node->node_next.PlainStore(ctx->aio_handlers.PlainLoad());
    qatomic_rcu_set(&ctx->aio_handlers, new_node);
  }

  // Unordered by design: a stale count only wastes a little polling until the
  // aio_notify below.
  qatomic_set(&ctx->poll_disable_cnt,
              qatomic_read(&ctx->poll_disable_cnt) + poll_disable_change);

  bool deleted = false;
  if (node != nullptr) deleted = aio_remove_fd_handler(ctx, node);
  qemu_lockcnt_unlock(&ctx->list_lock);
  aio_notify(ctx);
  if (deleted) platform_delete(node);
}

void aio_set_fd_handler(AioContext* ctx, int fd, IOHandler* io_read, IOHandler* io_write,
                        AioPollFn* io_poll, IOHandler* io_poll_ready, void* opaque) {
  aio_set_fd_handler_common(ctx, fd, io_read, nullptr, io_write, io_poll, io_poll_ready,
                            nullptr, opaque);
}

void aio_set_event_notifier(AioContext* ctx, EventNotifier* notifier,
                            EventNotifierHandler* io_read, AioPollFn* io_poll,
                            EventNotifierHandler* io_poll_ready) {
  aio_set_fd_handler_common(ctx, event_notifier_get_fd(notifier), nullptr, io_read,
                            nullptr, io_poll, nullptr, io_poll_ready, notifier);
}

// Whether the node has a read handler (QEMU's `node->io_read`): for an event
// notifier's node it is in io_notify (see AioHandler).
static bool node_has_io_read(AioHandler* node) {
  return node->io_read.Load() != nullptr || node->io_notify.Load() != nullptr;
}

static bool node_has_io_poll_ready(AioHandler* node) {
  return node->io_poll_ready.Load() != nullptr ||
         node->io_notify_poll_ready.Load() != nullptr;
}

static void call_io_read(AioHandler* node) {
  if (EventNotifierHandler* fn = node->io_notify.Load()) {
    fn(static_cast<EventNotifier*>(node->opaque.Load()));
  } else {
    node->io_read.Load()(node->opaque.Load());
  }
}

static void call_io_poll_ready(AioHandler* node) {
  if (EventNotifierHandler* fn = node->io_notify_poll_ready.Load()) {
    fn(static_cast<EventNotifier*>(node->opaque.Load()));
  } else {
    node->io_poll_ready.Load()(node->opaque.Load());
  }
}

// ---- adaptive polling ------------------------------------------------------------------

// Enters or leaves poll mode. Leaving polls each handler one last time (an event
// may have raced with io_poll_end) and reports that as progress — the context's
// notifier included (docs/modern-sources.md D12).
static bool poll_set_started(AioContext* ctx, AioHandlerList* ready_list, bool started) {
  if (started == ctx->poll_started.Load()) return false;
  ctx->poll_started.Store(started);

  bool progress = false;
  qemu_lockcnt_inc(&ctx->list_lock);
  for (AioHandler* node = ctx->poll_aio_handlers.Load(); node != nullptr;
       node = node->poll_next.Load()) {
    if (node->on_deleted.Load()) continue;
    // (io_poll_begin / io_poll_end: not settable here, see aio_internal.h.)
    if (!started && node->io_poll.Load()(node->opaque.Load())) {
      aio_add_poll_ready_handler(ready_list, node);
      progress = true;
    }
  }
  qemu_lockcnt_dec(&ctx->list_lock);
  return progress;
}

// The GSource path cannot poll in userspace: leave poll mode. (What that finds is
// dropped, as in QEMU.) 10.2's gsource_prepare does nothing for poll.
bool aio_prepare(AioContext* ctx) {
  AioHandlerList ready_list;
  poll_set_started(ctx, &ready_list, false);
  // The dropped list must not keep pointers to this stack frame.
  while (AioHandler* node = ready_list.first.Load()) ready_list_remove(node);
  return false;
}

// 10.2's fdmon_poll_gsource_check.
bool aio_pending(AioContext* ctx) {
  bool result = false;
  qemu_lockcnt_inc(&ctx->list_lock);
  for (AioHandler* node = qatomic_rcu_read(&ctx->aio_handlers); node != nullptr;
       node = qatomic_rcu_read(&node->node_next)) {
    const int16_t revents = node->revents.Load() & node->events.Load();
    if ((revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && node_has_io_read(node)) {
      result = true;
      break;
    }
    if ((revents & (G_IO_OUT | G_IO_ERR)) && node->io_write.Load() != nullptr) {
      result = true;
      break;
    }
  }
  qemu_lockcnt_dec(&ctx->list_lock);
  return result;
}

// Frees the deleted nodes if the caller is the only visitor; a nested caller leaves
// them to its parent.
static void aio_free_deleted_handlers(AioContext* ctx) {
  if (qatomic_rcu_read(&ctx->deleted_aio_handlers) == nullptr) return;
  if (!qemu_lockcnt_dec_if_lock(&ctx->list_lock)) return;  // nested

  while (AioHandler* node = ctx->deleted_aio_handlers.PlainLoad()) {
    handler_list_remove(ctx, node);
    deleted_list_remove(ctx, node);
    poll_list_remove(ctx, node);
    platform_delete(node);
  }
  qemu_lockcnt_inc_and_unlock(&ctx->list_lock);
}

// Each step re-checks "on the deleted list" (a callback may remove the node).
static bool aio_dispatch_handler(AioContext* ctx, AioHandler* node) {
  bool progress = false;
  const int16_t revents = node->revents.Load() & node->events.Load();
  node->revents.Store(0);
  const bool poll_ready = node->poll_ready.Load();
  node->poll_ready.Store(false);

  // A handler that fired is likely to fire again: start polling it.
  if (!node->on_deleted.Load() && !node->on_poll.Load() && node->io_poll.Load() != nullptr) {
    poll_list_insert_head(ctx, node);
  }
  if (!node->on_deleted.Load() && poll_ready && revents == 0 &&
      node_has_io_poll_ready(node)) {
    // Off the poll list while its handler runs, so that a nested aio_poll cannot
    // find it ready again before the handler cleared its condition.
    poll_list_remove(ctx, node);
    call_io_poll_ready(node);
    if (!node->on_poll.Load()) poll_list_insert_head(ctx, node);
    return node->opaque.Load() != ctx->notifier.get();  // aio_notify is not progress
  }
  if (!node->on_deleted.Load() && (revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)) &&
      node_has_io_read(node)) {
    call_io_read(node);
    if (node->opaque.Load() != ctx->notifier.get()) progress = true;
  }
  if (!node->on_deleted.Load() && (revents & (G_IO_OUT | G_IO_ERR)) &&
      node->io_write.Load() != nullptr) {
    node->io_write.Load()(node->opaque.Load());
    progress = true;
  }
  return progress;
}

static void adjust_polling_time(AioContext* ctx, AioPolledEvent* poll, int64_t block_ns) {
  const int64_t poll_max_ns = ctx->poll_max_ns.Load();
  int64_t ns = poll->ns.Load();
  if (block_ns <= ns) {
    return;  // the sweet spot
  } else if (block_ns > poll_max_ns) {
    // Polling would have to last too long: poll less.
    const int64_t shrink = ctx->poll_shrink.Load();
    poll->ns.Store(shrink != 0 ? ns / shrink : 0);
  } else if (ns < poll_max_ns && block_ns < poll_max_ns) {
    // Room to grow: poll longer, from 4 microseconds.
    int64_t grow = ctx->poll_grow.Load();
    if (grow == 0) grow = 2;
    ns = ns != 0 ? ns * grow : 4000;
    poll->ns.Store(ns > poll_max_ns ? poll_max_ns : ns);
  }
}

static bool aio_dispatch_ready_handlers(AioContext* ctx, AioHandlerList* ready_list,
                                        int64_t block_ns) {
  bool progress = false;
  while (AioHandler* node = ready_list->first.Load()) {
    ready_list_remove(node);
    progress = aio_dispatch_handler(ctx, node) || progress;
    // After the dispatch, which may have put the node on the poll list.
    if (ctx->poll_max_ns.Load() != 0 && node->on_poll.Load()) {
      adjust_polling_time(ctx, &node->poll, block_ns);
    }
  }
  return progress;
}

// The GSource dispatch (10.2: fdmon_poll_gsource_dispatch builds the ready list from
// the revents glib copied in, newest node first onto the list's head).
void aio_dispatch(AioContext* ctx) {
  qemu_lockcnt_inc(&ctx->list_lock);
  aio_bh_poll(ctx);
  AioHandlerList ready_list;
  for (AioHandler* node = qatomic_rcu_read(&ctx->aio_handlers); node != nullptr;
       node = qatomic_rcu_read(&node->node_next)) {
    const int16_t revents = node->revents.Load() & node->events.Load();
    if (revents != 0) aio_add_ready_handler(&ready_list, node, revents);
  }
  aio_dispatch_ready_handlers(ctx, &ready_list, 0);
  aio_free_deleted_handlers(ctx);
  qemu_lockcnt_dec(&ctx->list_lock);
  timerlistgroup_run_timers(&ctx->tlg);
}

static bool run_poll_handlers_once(AioContext* ctx, AioHandlerList* ready_list, int64_t now,
                                   int64_t* timeout) {
  bool progress = false;
  AioHandler* next;
  for (AioHandler* node = ctx->poll_aio_handlers.Load(); node != nullptr; node = next) {
    next = node->poll_next.Load();
    if (node->io_poll.Load()(node->opaque.Load())) {
      aio_add_poll_ready_handler(ready_list, node);
      node->poll_idle_timeout.Store(now + POLL_IDLE_INTERVAL_NS);
      // Leave try_poll_mode at once, to adjust the next polling time.
      *timeout = 0;
      if (node->opaque.Load() != ctx->notifier.get()) progress = true;
    }
    // Deleted nodes are the caller's to free.
  }
  return progress;
}

// Only with an fd monitor that polls (io_uring); poll never removes them.
static bool remove_idle_poll_handlers(AioContext* ctx, AioHandlerList*, int64_t) {
  if (!fdmon_supports_polling(ctx)) return false;
  AIOSIM_ASSERT(!"remove_idle_poll_handlers: no polling fd monitor here");
  return false;
}

// REQUIRES: the caller counts itself in ctx->list_lock.
static bool run_poll_handlers(AioContext* ctx, AioHandlerList* ready_list, int64_t max_ns,
                              int64_t* timeout) {
  AIOSIM_ASSERT(qemu_lockcnt_count(&ctx->list_lock) > 0);
  // (QEMU holds an RCU read lock across the loop; nothing here uses call_rcu.)
  const int64_t start_time = now_ns(ctx);
  bool progress;
  int64_t elapsed_time;
  for (;;) {
    progress = run_poll_handlers_once(ctx, ready_list, start_time, timeout);
    elapsed_time = now_ns(ctx) - start_time;
    max_ns = qemu_soonest_timeout(*timeout, max_ns);
    AIOSIM_ASSERT(!(max_ns && progress));
    // 10.2: stop as soon as the system call is needed (with io_uring it would also
    // set *timeout = 0 to stay in poll mode; poll cannot).
    if (need_wait(ctx)) break;
    if (elapsed_time >= max_ns) break;
  }
  if (remove_idle_poll_handlers(ctx, ready_list, start_time + elapsed_time)) {
    *timeout = 0;
    progress = true;
  }
  // No success: keep the same end time for the wait that follows.
  if (*timeout != -1) *timeout -= *timeout < elapsed_time ? *timeout : elapsed_time;
  return progress;
}

// REQUIRES: the caller counts itself in ctx->list_lock.
static bool try_poll_mode(AioContext* ctx, AioHandlerList* ready_list, int64_t* timeout) {
  if (ctx->poll_aio_handlers.Load() == nullptr) return false;
  int64_t max_ns = 0;
  for (AioHandler* node = ctx->poll_aio_handlers.Load(); node != nullptr;
       node = node->poll_next.Load()) {
    const int64_t ns = node->poll.ns.Load();
    if (ns > max_ns) max_ns = ns;
  }
  max_ns = qemu_soonest_timeout(*timeout, max_ns);
  if (max_ns != 0 && !need_wait(ctx)) {
    // Pairs with the poll_set_started(false) in aio_poll.
    poll_set_started(ctx, ready_list, true);
    if (run_poll_handlers(ctx, ready_list, max_ns, timeout)) return true;
  }
  return false;
}

// fdmon_poll_wait: every live node with events, in list order (newest first), then
// the ready ones onto the list's head.
static void fdmon_poll_wait(AioContext* ctx, AioHandlerList* ready_list, int64_t timeout) {
  // QEMU keeps the arrays in thread-local storage; a local array is equivalent and
  // also works when simulated threads share one OS thread.
  absl::InlinedVector<PollFd, 8> pollfds;
  absl::InlinedVector<AioHandler*, 8> nodes;
  for (AioHandler* node = qatomic_rcu_read(&ctx->aio_handlers); node != nullptr;
       node = qatomic_rcu_read(&node->node_next)) {
    if (!node->on_deleted.Load() && node->events.Load() != 0) {
      pollfds.push_back(PollFd{node->fd, node->events.Load(), 0});
      nodes.push_back(node);
    }
  }
  // (The epoll upgrade at 64 fds is not followed.)
  int ret = ctx->runtime->platform()->poller().Poll(pollfds.data(), pollfds.size(), timeout);
  if (ret <= 0) return;
  for (size_t i = 0; i < pollfds.size(); i++) {
    if (pollfds[i].revents != 0) aio_add_ready_handler(ready_list, nodes[i], pollfds[i].revents);
  }
}

bool aio_poll(AioContext* ctx, bool blocking) {
  // One aio_poll per context at a time, never beside the GSource callbacks: only the
  // home thread polls. (QEMU's iohandler_ctx exception has no counterpart here.)
  AIOSIM_ASSERT(in_aio_context_home_thread(ctx));

  AioHandlerList ready_list;
  qemu_lockcnt_inc(&ctx->list_lock);

  int64_t start = 0;
  if (ctx->poll_max_ns.Load() != 0) start = now_ns(ctx);

  int64_t timeout = blocking ? aio_compute_timeout(ctx) : 0;
  bool progress = try_poll_mode(ctx, &ready_list, &timeout);
  AIOSIM_ASSERT(!(timeout && progress));

  // Until the poll below returns, aio_notify must write the eventfd: announce this
  // poller (one writer: a plain read-modify-write, then a full barrier), then look at
  // `notified` once more so that a notify that saw notify_me == 0 is not lost.
  const bool use_notify_me = timeout != 0;
  if (use_notify_me) {
    qatomic_set(&ctx->notify_me, qatomic_read(&ctx->notify_me) + 2u);
    smp_mb();
    // (Not QEMU: aio_test_skip_notified_recheck, a test's canary; aio_internal.h.)
    if (!aio_test_skip_notified_recheck && qatomic_read(&ctx->notified)) timeout = 0;
  }

  // Non-blocking with every handler pollable: no system call at all (D13).
  if (timeout != 0 || need_wait(ctx)) {
    // Leave poll mode before waiting, so that a guest's notification wakes us (10.2:
    // only for a wait that may block).
    if (timeout != 0 && poll_set_started(ctx, &ready_list, false)) {
      timeout = 0;
      progress = true;
    }
    fdmon_poll_wait(ctx, &ready_list, timeout);
  }

  if (use_notify_me) {
    // The poll is complete before the flag drops.
    qatomic_store_release(&ctx->notify_me, qatomic_read(&ctx->notify_me) - 2u);
  }

  aio_notify_accept(ctx);

  int64_t block_ns = 0;
  if (ctx->poll_max_ns.Load() != 0) block_ns = now_ns(ctx) - start;

  progress |= aio_bh_poll(ctx) != 0;
  progress |= aio_dispatch_ready_handlers(ctx, &ready_list, block_ns);

  aio_free_deleted_handlers(ctx);
  qemu_lockcnt_dec(&ctx->list_lock);

  // Timers run last, outside the lockcnt.
  progress |= timerlistgroup_run_timers(&ctx->tlg);
  return progress;
}

void aio_context_destroy(AioContext* ctx) { aio_free_deleted_handlers(ctx); }

// Any thread. Every handler's polling time restarts from zero.
void aio_context_set_poll_params(AioContext* ctx, int64_t max_ns, int64_t grow,
                                 int64_t shrink) {
  qemu_lockcnt_inc(&ctx->list_lock);
  for (AioHandler* node = qatomic_rcu_read(&ctx->aio_handlers); node != nullptr;
       node = qatomic_rcu_read(&node->node_next)) {
    node->poll.ns.Store(0);
  }
  qemu_lockcnt_dec(&ctx->list_lock);
  // No synchronisation: a stale value used once does no harm.
  ctx->poll_max_ns.Store(max_ns);
  ctx->poll_grow.Store(grow);
  ctx->poll_shrink.Store(shrink);
  aio_notify(ctx);
}

}  // namespace aiosim::core::modern

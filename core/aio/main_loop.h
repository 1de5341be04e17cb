// core/aio/main_loop.h — the AioContext as QEMU's main loop drives it: one glib
// iteration (g_main_context_prepare / query / poll / check / dispatch) over the
// context's GSource, as QEMU 2.8.1 main-loop.c's main_loop_wait and
// os_host_main_loop_wait do, on our Poller instead of glib.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// This is the path in which notify_me bit 0 is set (prepare) and cleared (check);
// races R3 and R4 have a thread here while another runs a nested aio_poll.
//
// glib details that are followed: when prepare reports the source ready, the poll
// gets a zero timeout and check is NOT called (the source is already ready), so
// notify_me bit 0 stays set until a later check; revents are written back into the
// polled nodes before check. Not followed: glib's "poll set changed during poll"
// bail-out; revents go to whichever undeleted node holds the fd after the poll.
//
// Threading: one thread drives a MainLoop. If `iothread_lock` (QEMU's BQL) is given,
// the caller holds it around main_loop_wait, which drops it only around the poll.
#ifndef AIOSIM_CORE_AIO_MAIN_LOOP_H_
#define AIOSIM_CORE_AIO_MAIN_LOOP_H_

#include "core/aio/aio.h"

namespace aiosim::core {

struct MainLoop {
  AioContext* ctx = nullptr;
  QemuMutex* iothread_lock = nullptr;  // optional BQL, held by the caller
  bool source_ready = false;           // glib's G_SOURCE_READY flag of the source
};

// One iteration. Blocks in the poll (until an fd is ready or the context's timeout)
// unless `nonblocking`. Returns whether the source was dispatched.
bool main_loop_wait(MainLoop* loop, bool nonblocking);

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_AIO_MAIN_LOOP_H_

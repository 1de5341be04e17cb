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
// The BQL, as os_host_main_loop_wait handles it: if `iothread_lock` (QEMU's BQL) is
// given, the caller holds it around main_loop_wait, which drops it around the poll
// only when the poll's timeout is non-zero. With a zero timeout (a source ready at
// prepare, or a non-blocking iteration) the BQL stays held from prepare through
// check and dispatch, so no other BQL holder runs in between. After more than
// MAX_MAIN_LOOP_SPIN (1000) consecutive zero-timeout iterations, i.e. on the
// 1002nd, the timeout is forced to 1 ms, so the BQL is dropped and other threads
// get it; the first time, "main-loop: WARNING: I/O thread spun for 1000 iterations"
// goes to stderr (QEMU: unless qtest is in use).
//
// Threading: one thread drives a MainLoop; its fields are that thread's.
#ifndef AIOSIM_CORE_AIO_MAIN_LOOP_H_
#define AIOSIM_CORE_AIO_MAIN_LOOP_H_

#include "core/aio/aio.h"

namespace aiosim::core {

// os_host_main_loop_wait: consecutive zero-timeout iterations allowed before the
// timeout is forced to 1 ms.
inline constexpr int MAX_MAIN_LOOP_SPIN = 1000;

struct MainLoop {
  AioContext* ctx = nullptr;
  QemuMutex* iothread_lock = nullptr;  // optional BQL, held by the caller
  bool source_ready = false;           // glib's G_SOURCE_READY flag of the source
  // os_host_main_loop_wait's function-static state (QEMU has one main loop per
  // process; here each MainLoop has its own).
  int spin_counter = 0;       // consecutive iterations that polled with timeout 0
  bool spin_notified = false;  // the spin warning was printed
  bool qtest = false;          // QEMU's qtest_enabled(): never print the warning
};

// One iteration. Blocks in the poll (until an fd is ready or the context's timeout)
// unless `nonblocking`. Returns whether the source was dispatched.
bool main_loop_wait(MainLoop* loop, bool nonblocking);

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_AIO_MAIN_LOOP_H_

// core/aio/block_io.cc — follows the BlockAIOCB helpers of QEMU 2.8.1 block/io.c
// (qemu_aio_ref, qemu_aio_unref, bdrv_aio_cancel, bdrv_aio_cancel_async), which 10.2
// keeps as they were for the ACBs here (10.2 also polls a BlockDriverState's context
// for an ACB without get_aio_context, and aborts without one: there is no
// BlockDriverState here). Shared by both generations' thread pools.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Written from QEMU-SEMANTICS.md §1.7; names are QEMU's, the code is ours.
#include <cerrno>

#include "core/aio/aio.h"
#include "core/aio/thread_pool.h"
#include "core/platform/check.h"

namespace aiosim::core {

const char* ThreadStateName(ThreadState state) {
  switch (state) {
    case THREAD_QUEUED: return "queued";
    case THREAD_ACTIVE: return "active";
    case THREAD_DONE: return "done";
  }
  return "invalid";
}

// ---- block/io.c ------------------------------------------------------------------------

void qemu_aio_ref(BlockAIOCB* acb) { acb->refcnt.Store(acb->refcnt.Load() + 1); }

void qemu_aio_unref(BlockAIOCB* acb) {
  int refcnt = acb->refcnt.Load();
  AIOSIM_ASSERT(refcnt > 0);
  acb->refcnt.Store(refcnt - 1);
  if (refcnt == 1) acb->aiocb_info->release(acb);
}

void bdrv_aio_cancel_async(BlockAIOCB* acb) {
  if (acb->aiocb_info->cancel_async != nullptr) acb->aiocb_info->cancel_async(acb);
}

void bdrv_aio_cancel(BlockAIOCB* acb) {
  const AIOCBInfo* info = acb->aiocb_info;
  if (info->cancel != nullptr && info->get_aio_context != nullptr &&
      (info->get_aio_context(acb)->switches & AIO_REVERT_R7)) {
    info->cancel(acb);  // 2.0: the callback is still to come
    return;
  }
  qemu_aio_ref(acb);
  bdrv_aio_cancel_async(acb);
  // The callback drops the request's own reference; ours keeps the ACB alive.
  while (acb->refcnt.Load() > 1) {
    // QEMU polls the BlockDriverState's context then, and aborts without one; there is
    // no BlockDriverState here. A modern pool request (8.0+) has neither.
    if (acb->aiocb_info->get_aio_context == nullptr) {
      CheckFailed("bdrv_aio_cancel: the ACB has no get_aio_context and no "
                  "BlockDriverState, so QEMU aborts (a thread pool request since 8.0: "
                  "use bdrv_aio_cancel_async)");
    }
    aio_poll(acb->aiocb_info->get_aio_context(acb), true);
  }
  qemu_aio_unref(acb);
}

}  // namespace aiosim::core


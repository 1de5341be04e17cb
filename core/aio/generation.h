// core/aio/generation.h — which QEMU an AIO object follows. Not QEMU: QEMU has one
// generation per build; here a world may hold both (docs/modern.md).
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_CORE_AIO_GENERATION_H_
#define AIOSIM_CORE_AIO_GENERATION_H_

#include <string_view>

namespace aiosim::core {

// The QEMU generation an AioContext (and its BHs, timer lists and pool) follows.
enum class AioGeneration {
  kLegacy,  // QEMU 2.8.1: bh_lock, walking_bh, cancel as a plain store, semaphore pool
  kModern,  // QEMU 10.2: BH flag word, lock-free enqueue, QemuLockCnt, copy-on-write
            // fd handlers, explicit notify barriers, condition-variable pool
};
// Parses "legacy" or "modern"; false for anything else.
bool ParseAioGeneration(std::string_view name, AioGeneration* generation);
const char* AioGenerationName(AioGeneration generation);

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_AIO_GENERATION_H_

// core/platform/threads.h — the thread seam: spawn, join and name threads.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// QEMU creates threads with qemu_thread_create (joinable or detached); the thread
// pool's workers are detached. Every thread has a small integer id, unique within one
// Threads object and assigned in spawn order (the thread that created the platform
// is id 0, named "main"), and a name, so logs and traces never show pointer values or
// OS thread ids.
//
// Threading: all methods may be called from any thread of this platform.
// Determinism (simulator): Spawn and thread exit are scheduling points; ids are
// assigned in spawn order and so are reproducible.
#ifndef AIOSIM_CORE_PLATFORM_THREADS_H_
#define AIOSIM_CORE_PLATFORM_THREADS_H_

#include <functional>
#include <string>

namespace aiosim::core {

using ThreadId = int;

inline constexpr int QEMU_THREAD_JOINABLE = 0;
inline constexpr int QEMU_THREAD_DETACHED = 1;

class Threads {
 public:
  virtual ~Threads() = default;
  // Starts `fn` in a new thread named `name`. `mode` is QEMU_THREAD_JOINABLE or
  // QEMU_THREAD_DETACHED. Returns the new thread's id. A joinable thread must be
  // joined exactly once; a detached one must not be joined.
  // `loc`: the caller's line, for the simulator's reports.
  virtual ThreadId Spawn(std::string name, std::function<void()> fn, int mode,
                         SrcLoc loc = SrcLoc::current()) = 0;
  // Waits for a joinable thread to finish. REQUIRES: not the current thread.
  virtual void Join(ThreadId id, SrcLoc loc = SrcLoc::current()) = 0;
  // The calling thread's id and name. REQUIRES: a thread of this platform.
  virtual ThreadId Current() = 0;
  virtual std::string CurrentName() = 0;
};

// QEMU's QemuThread handle.
struct QemuThread {
  Threads* threads = nullptr;
  ThreadId id = -1;
};

inline void qemu_thread_create(Threads* threads, QemuThread* thread, const char* name,
                               std::function<void()> fn, int mode,
                               SrcLoc loc = SrcLoc::current()) {
  thread->threads = threads;
  thread->id = threads->Spawn(name, std::move(fn), mode, loc);
}
inline void qemu_thread_join(QemuThread* thread, SrcLoc loc = SrcLoc::current()) {
  thread->threads->Join(thread->id, loc);
}

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_PLATFORM_THREADS_H_

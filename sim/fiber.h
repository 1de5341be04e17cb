// sim/fiber.h — fibers for simulated threads on pooled, guard-paged stacks: a
// return-balanced switch of our own on x86-64 (AIOSIM_RET_SWITCH below), else
// Boost.Context's fcontext switch (make_fcontext / jump_fcontext), with the
// AddressSanitizer and ThreadSanitizer fiber annotations.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Threading: all fibers of a pool run on one OS thread. A Fiber is either the OS
// thread's own context (MakeMain) or runs `entry(arg)` on a stack of its own; the
// entry must never return: the last thing a finishing fiber does is SwitchTo another
// with `finishing = true`, after which its stack may be reused.
#ifndef AIOSIM_SIM_FIBER_H_
#define AIOSIM_SIM_FIBER_H_

#include <cstddef>
#include <vector>

#include "sim/sanitizers.h"

// Sanitizer builds annotate every switch (fiber.cc); the others switch inline.
// On x86-64 without sanitizers the switch is aiosim's own (fiber.cc): it returns into
// the resumed fiber with `ret`, where Boost's jump_fcontext jumps there with `jmp`.
// A jump leaves the return-address predictor one entry off, so every return the
// resumed fiber makes after a switch (out of the scheduler, the point, the
// primitive) is mispredicted; with `ret` the calls and returns stay paired.
#if defined(__x86_64__) && !defined(AIOSIM_ASAN) && !defined(AIOSIM_TSAN)
#define AIOSIM_RET_SWITCH 1
// Saves the callee-saved registers, MXCSR and the x87 control word on the current
// stack, stores its stack pointer in *save, and resumes the context `to` (a stack
// pointer stored by an earlier call, or made by Fiber::Make), returning `data` there,
// with `to`'s own MXCSR and x87 control word (loaded only if they differ).
extern "C" void* aiosim_fiber_switch(void** save, void* to, void* data);
#endif

namespace aiosim::sim {

struct Stack {
  void* base = nullptr;  // lowest usable address (above the guard page)
  size_t size = 0;       // usable bytes
};

// Stacks are reused across executions; only a pool's destructor unmaps them.
class StackPool {
 public:
  explicit StackPool(size_t stack_size);
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  Stack Get();
  void Put(Stack stack);
  size_t stack_size() const { return stack_size_; }

 private:
  size_t stack_size_;
  std::vector<Stack> free_;
};

class Fiber {
 public:
  using Entry = void (*)(void* arg);

  Fiber() = default;
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // The calling OS thread's context, to switch back to when the simulation ends.
  void MakeMain();
  // A fiber that starts running entry(arg) on `stack` when first switched to.
  void Make(Stack stack, Entry entry, void* arg);

  // Suspends `this` (which must be the running fiber) and resumes `to`. Returns when
  // someone switches back to `this`. `finishing`: `this` will never be resumed.
  // Inline with AIOSIM_RET_SWITCH: one call frame less between a scheduling point and
  // the switch.
#if defined(AIOSIM_RET_SWITCH)
  void SwitchTo(Fiber* to, bool finishing = false) {
    SwitchRecord rec{this, to, finishing};
    aiosim_fiber_switch(&ctx_, to->ctx_, &rec);  // back here when resumed
  }
#else
  void SwitchTo(Fiber* to, bool finishing = false);
#endif

  // Passed through the switch: who switched to whom.
  struct SwitchRecord {
    Fiber* from;
    Fiber* to;
    bool from_finishing;
  };

  const Stack& stack() const { return stack_; }

 private:
  // A suspended fiber's context: its saved stack pointer (AIOSIM_RET_SWITCH), else a
  // boost::context::detail::fcontext_t.
  void* ctx_ = nullptr;
  Stack stack_;
  Entry entry_ = nullptr;
  void* arg_ = nullptr;
  // Sanitizer bookkeeping.
  void* asan_fake_stack_ = nullptr;
  const void* asan_bottom_ = nullptr;
  size_t asan_size_ = 0;
  [[maybe_unused]] void* tsan_fiber_ = nullptr;
  [[maybe_unused]] bool tsan_owned_ = false;
  friend struct FiberAccess;
};

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_FIBER_H_

// sim/fiber.h — fibers for simulated threads: Boost.Context's fcontext switch
// (make_fcontext / jump_fcontext, a few ns) on pooled, guard-paged stacks, with the
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
  void SwitchTo(Fiber* to, bool finishing = false);

  const Stack& stack() const { return stack_; }

 private:
  void* ctx_ = nullptr;  // boost::context::detail::fcontext_t of a suspended fiber
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

// sim/fiber.cc — see fiber.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <boost/context/detail/fcontext.hpp>
#include <cstdio>
#include <cstdlib>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AIOSIM_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define AIOSIM_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define AIOSIM_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define AIOSIM_TSAN 1
#endif

#ifdef AIOSIM_ASAN
#include <sanitizer/asan_interface.h>
#endif
#ifdef AIOSIM_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace bctx = boost::context::detail;

namespace aiosim::sim {

namespace {

size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

// Passed through jump_fcontext: who switched to whom.
struct SwitchRecord {
  Fiber* from;
  Fiber* to;
  bool from_finishing;
};

}  // namespace

struct FiberAccess {
  static void BeforeSwitch(Fiber* from, Fiber* to, bool finishing) {
#ifdef AIOSIM_ASAN
    __sanitizer_start_switch_fiber(finishing ? nullptr : &from->asan_fake_stack_,
                                   to->asan_bottom_, to->asan_size_);
#endif
#ifdef AIOSIM_TSAN
    __tsan_switch_to_fiber(to->tsan_fiber_, 0);
#endif
    (void)from;
    (void)to;
    (void)finishing;
  }
  // Runs in `self` right after it was resumed (or started).
  static void AfterSwitch(Fiber* self, SwitchRecord* rec, bctx::fcontext_t from_ctx) {
    if (!rec->from_finishing) rec->from->ctx_ = from_ctx;
#ifdef AIOSIM_ASAN
    const void* old_bottom = nullptr;
    size_t old_size = 0;
    __sanitizer_finish_switch_fiber(self->asan_fake_stack_, &old_bottom, &old_size);
    if (rec->from->asan_bottom_ == nullptr) {  // the main context learns its stack here
      rec->from->asan_bottom_ = old_bottom;
      rec->from->asan_size_ = old_size;
    }
#endif
    (void)self;
  }
  // The first code a new fiber runs.
  static void Entry(bctx::transfer_t t) {
    auto* rec = static_cast<SwitchRecord*>(t.data);
    Fiber* self = rec->to;
    AfterSwitch(self, rec, t.fctx);
    self->entry_(self->arg_);
    std::fprintf(stderr, "aiosim: a fiber's entry returned\n");
    std::abort();
  }
};

StackPool::StackPool(size_t stack_size)
    : stack_size_((stack_size + PageSize() - 1) / PageSize() * PageSize()) {}

StackPool::~StackPool() {
  for (const Stack& s : free_) {
    munmap(static_cast<char*>(s.base) - PageSize(), s.size + PageSize());
  }
}

Stack StackPool::Get() {
  if (!free_.empty()) {
    Stack s = free_.back();
    free_.pop_back();
    return s;
  }
  const size_t total = stack_size_ + PageSize();
  void* mem =
      mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    std::fprintf(stderr, "aiosim: cannot map a %zu-byte fiber stack\n", total);
    std::abort();
  }
  mprotect(mem, PageSize(), PROT_NONE);  // guard page: an overflow faults
  return Stack{static_cast<char*>(mem) + PageSize(), stack_size_};
}

void StackPool::Put(Stack stack) { free_.push_back(stack); }

Fiber::~Fiber() {
#ifdef AIOSIM_TSAN
  if (tsan_owned_ && tsan_fiber_ != nullptr) __tsan_destroy_fiber(tsan_fiber_);
#endif
}

void Fiber::MakeMain() {
#ifdef AIOSIM_TSAN
  tsan_fiber_ = __tsan_get_current_fiber();
#endif
}

void Fiber::Make(Stack stack, Entry entry, void* arg) {
#ifdef AIOSIM_ASAN
  // A reused stack still carries the shadow of its last fiber's frames (an abandoned
  // execution's fibers never unwound): start clean.
  ASAN_UNPOISON_MEMORY_REGION(stack.base, stack.size);
#endif
  stack_ = stack;
  entry_ = entry;
  arg_ = arg;
  asan_fake_stack_ = nullptr;
  asan_bottom_ = stack.base;
  asan_size_ = stack.size;
  void* top = static_cast<char*>(stack.base) + stack.size;
  ctx_ = bctx::make_fcontext(top, stack.size, &FiberAccess::Entry);
#ifdef AIOSIM_TSAN
  if (tsan_fiber_ == nullptr) {
    tsan_fiber_ = __tsan_create_fiber(0);
    tsan_owned_ = true;
  }
#endif
}

void Fiber::SwitchTo(Fiber* to, bool finishing) {
  SwitchRecord rec{this, to, finishing};
  FiberAccess::BeforeSwitch(this, to, finishing);
  bctx::transfer_t t = bctx::jump_fcontext(static_cast<bctx::fcontext_t>(to->ctx_), &rec);
  // Resumed: t.data is the record of whoever switched back to us.
  FiberAccess::AfterSwitch(this, static_cast<SwitchRecord*>(t.data), t.fctx);
}

}  // namespace aiosim::sim

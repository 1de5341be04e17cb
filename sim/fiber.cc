// sim/fiber.cc — see fiber.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <boost/context/detail/fcontext.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

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

}  // namespace

using SwitchRecord = Fiber::SwitchRecord;

#if defined(AIOSIM_RET_SWITCH)
// aiosim_fiber_switch(save = rdi, to = rsi, data = rdx), System V x86-64. The frame it
// leaves on a suspended stack, from the saved stack pointer up: MXCSR (4 bytes) and
// the x87 control word (2, padded to 8), r15, r14, r13, r12, rbx, rbp, and the
// return address. Resuming pops them in that order and returns with `ret`, so the
// return-address predictor sees a call (this one) matched by a return (the resumed
// fiber's own earlier call of it). `data` comes back in rax. The resumed fiber's MXCSR
// and x87 control word are loaded only where they differ from the suspended one's
// (ldmxcsr and fldcw cost more than the compare; almost always no fiber changes
// them), so each fiber still keeps its own, as a thread would. A new fiber's frame
// (Fiber::Make) returns into aiosim_fiber_start, which calls FiberAccess::Start(data)
// on an aligned stack.
__asm__(
    ".pushsection .text\n"
    ".globl aiosim_fiber_switch\n"
    ".type aiosim_fiber_switch,@function\n"
    ".p2align 4\n"
    "aiosim_fiber_switch:\n"
    "  pushq %rbp\n"
    "  pushq %rbx\n"
    "  pushq %r12\n"
    "  pushq %r13\n"
    "  pushq %r14\n"
    "  pushq %r15\n"
    "  subq $8, %rsp\n"
    "  stmxcsr (%rsp)\n"
    "  fnstcw 4(%rsp)\n"
    "  movq %rsp, (%rdi)\n"
    "  movl (%rsp), %ecx\n"
    "  movzwl 4(%rsp), %r8d\n"
    "  movq %rsi, %rsp\n"
    "  cmpl (%rsp), %ecx\n"
    "  jne 1f\n"
    "2:\n"
    "  cmpw 4(%rsp), %r8w\n"
    "  jne 3f\n"
    "4:\n"
    "  addq $8, %rsp\n"
    "  popq %r15\n"
    "  popq %r14\n"
    "  popq %r13\n"
    "  popq %r12\n"
    "  popq %rbx\n"
    "  popq %rbp\n"
    "  movq %rdx, %rax\n"
    "  ret\n"
    "1:\n"
    "  ldmxcsr (%rsp)\n"
    "  jmp 2b\n"
    "3:\n"
    "  fldcw 4(%rsp)\n"
    "  jmp 4b\n"
    ".size aiosim_fiber_switch,.-aiosim_fiber_switch\n"
    ".globl aiosim_fiber_start\n"
    ".type aiosim_fiber_start,@function\n"
    ".p2align 4\n"
    "aiosim_fiber_start:\n"
    "  .cfi_startproc\n"
    "  .cfi_undefined rip\n"  // the first frame of a fiber: unwinders stop here
    "  movq %rax, %rdi\n"
    "  andq $-16, %rsp\n"
    "  callq aiosim_fiber_start_c\n"
    "  ud2\n"
    "  .cfi_endproc\n"
    ".size aiosim_fiber_start,.-aiosim_fiber_start\n"
    ".popsection\n");
extern "C" void aiosim_fiber_start();
extern "C" [[noreturn]] void aiosim_fiber_start_c(void* data);
#endif

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
  // The first code a new fiber runs (AIOSIM_RET_SWITCH): `data` is the switcher's
  // record.
  [[noreturn]] static void Start(void* data) {
    auto* rec = static_cast<SwitchRecord*>(data);
    Fiber* self = rec->to;
    self->entry_(self->arg_);
    std::fprintf(stderr, "aiosim: a fiber's entry returned\n");
    std::abort();
  }
  // The first code a new fiber runs (Boost.Context).
  static void Entry(bctx::transfer_t t) {
    auto* rec = static_cast<SwitchRecord*>(t.data);
    Fiber* self = rec->to;
    AfterSwitch(self, rec, t.fctx);
    self->entry_(self->arg_);
    std::fprintf(stderr, "aiosim: a fiber's entry returned\n");
    std::abort();
  }
};

#if defined(AIOSIM_RET_SWITCH)
// `used`: only the assembly above calls it, which link-time optimisation cannot see.
extern "C" [[gnu::used]] void aiosim_fiber_start_c(void* data) {
  FiberAccess::Start(data);
}
#endif

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
#if defined(AIOSIM_RET_SWITCH)
  // The frame aiosim_fiber_switch pops (see above): control words, six registers,
  // and aiosim_fiber_start as the return address; the top 16 bytes stay unused.
  auto* frame = reinterpret_cast<uint64_t*>(static_cast<char*>(top) - 16) - 8;
  uint32_t mxcsr = 0;
  uint16_t fpucw = 0;
  __asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mxcsr), "=m"(fpucw));
  frame[0] = static_cast<uint64_t>(mxcsr) | static_cast<uint64_t>(fpucw) << 32;
  for (int i = 1; i <= 6; i++) frame[i] = 0;  // r15 .. rbp
  frame[7] = reinterpret_cast<uint64_t>(&aiosim_fiber_start);
  ctx_ = frame;
#else
  ctx_ = bctx::make_fcontext(top, stack.size, &FiberAccess::Entry);
#endif
#ifdef AIOSIM_TSAN
  if (tsan_fiber_ == nullptr) {
    tsan_fiber_ = __tsan_create_fiber(0);
    tsan_owned_ = true;
  }
#endif
}

#if defined(AIOSIM_ASAN) || defined(AIOSIM_TSAN)
void Fiber::SwitchTo(Fiber* to, bool finishing) {
  SwitchRecord rec{this, to, finishing};
  FiberAccess::BeforeSwitch(this, to, finishing);
  bctx::transfer_t t = bctx::jump_fcontext(static_cast<bctx::fcontext_t>(to->ctx_), &rec);
  // Resumed: t.data is the record of whoever switched back to us.
  FiberAccess::AfterSwitch(this, static_cast<SwitchRecord*>(t.data), t.fctx);
}
#endif

}  // namespace aiosim::sim

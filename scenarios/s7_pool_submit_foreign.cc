// scenarios/s7_pool_submit_foreign.cc — claim S7: "thread_pool_submit_aio may only be
// called in the Aio context thread; when no thread is idle it spawns one". Follows
// QEMU 2.8.1 thread-pool.c: thread_pool_submit_aio (QLIST_INSERT_HEAD on pool->head
// without any lock, then under pool->lock: spawn_thread if idle_threads == 0 &&
// cur_threads < max_threads, queue the request; qemu_sem_post), spawn_thread
// (cur_threads++, new_threads++, new_thread_bh scheduled if no thread is pending),
// spawn_thread_bh_fn / do_spawn_thread, worker_thread and thread_pool_completion_bh
// (walks and edits pool->head, also without a lock).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// submitter=home: the home thread submits A, whose function waits until B's has run,
// polls until A's function has started (the poll runs new_thread_bh, which creates
// the first worker), then submits B: no thread is idle (the only worker is busy in A),
// so B's submit must owe a second worker (cur_threads 2, new_threads 1, new_thread_bh
// scheduled); otherwise A would wait for B forever. It then polls until both
// callbacks ran. Checked: the pool's counters after each submit are exactly what the
// spawn rule gives (they are deterministic there: no worker can be created or exit in
// between), cur_threads never exceeds max_threads, and each callback runs once, in the
// home thread, with its function's result. Nothing is found (exhaustive search to the
// bound below, 1; bound 2 is not exhausted in minutes: three threads block and wake
// through the pool's lock, semaphore and eventfd), and --races reports nothing beyond
// QEMU 2.8's races by design.
//
// submitter=home-burst: as home, but B is submitted right after A, before the loop
// ran: both submits find no worker at all and owe one each (cur_threads 2,
// new_threads 2; the second finds new_thread_bh already scheduled). new_thread_bh
// creates one worker (pending_threads 1), and that worker, as it starts, creates the
// next (do_spawn_thread in worker_thread): the path by which 2.8.1 avoids creating
// many threads in a loop from the home thread. A still waits for B, so both workers
// must exist. Nothing is found either.
//
// submitter=foreign: a vCPU-like thread submits B while the home thread submits A and
// polls. pool->head is touched without a lock by both submits' QLIST_INSERT_HEAD and
// by the completion BH's QLIST_REMOVE. With one preemption between a read of head and
// the store that depends on it, either an insert is lost — the other submit, or the
// completion BH removing A, stores a head that no longer holds it — and that
// request's callback never runs, or the completion BH removes A while the foreign
// insert still holds it as its successor, so A, already completed, is back on the list
// and the next completion scan completes it again. The home thread keeps its own
// reference to A (qemu_aio_ref) so that the second outcome is a second callback
// (an assertion) and not, as it would be in QEMU, a scan through A's freed memory (a
// use after free): one kind for both outcomes. The home thread polls until both
// callbacks ran or every function has returned and no worker is busy (each worker
// schedules the completion BH in the same critical section in which it goes idle), and
// then checks that each callback ran exactly once. Found: assertion. With --races, the
// first conflicting access to pool->head is reported as a data race.
//
// submitter=foreign-acquired: as foreign, but the vCPU thread holds the context
// around its submit (aio_context_acquire/release), and so does the home thread around
// its own (aio_poll holds it around dispatch, where the completion BH edits
// pool->head). Nothing is found (exhaustive search to the bound below), and --races
// is clean but for QEMU 2.8's races by design. That is QEMU's real rule: thread-pool.c
// documents pool->head as used from one AioContext and the `all` link as guarded by
// the global mutex, and spawn_thread's comment expects vCPU threads (which hold the
// BQL, as the main loop does when it runs the completion BH) to submit. The claim's
// "only in the Aio context thread" is the safe reading of that rule.
//
// Verdict: confirmed — the spawn rule holds from the home thread, and a foreign
// submit without the context corrupts pool->head (a lost or repeated completion), as
// the rule says; a foreign thread that owns the context may submit.
#include "core/aio/aio.h"
#include "core/aio/thread_pool.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

struct S7State;

struct S7Request {
  S7State* s = nullptr;
  int result = 0;
  int completions = 0;  // the callback's: home thread only
};

struct S7State {
  sim::SimContext* sim = nullptr;
  ThreadId home = -1;
  S7Request a, b;
  Atomic<bool> a_started{false};
  QemuSemaphore b_ran{0};  // home: A's function waits for B's
  bool a_waits = false;
  Atomic<int> funcs_returned{0};
  QEMUBH* kick = nullptr;  // wakes the home thread when A's function has started
};

int S7Func(void* arg) {
  auto* r = static_cast<S7Request*>(arg);
  S7State* s = r->s;
  if (r == &s->a && s->a_waits) {
    atomic_set(&s->a_started, true);
    qemu_bh_schedule(s->kick);
    qemu_sem_wait(&s->b_ran);
  } else if (r == &s->b && s->a_waits) {
    qemu_sem_post(&s->b_ran);
  }
  atomic_inc(&s->funcs_returned);
  return r->result;
}

void S7Done(void* opaque, int ret) {
  auto* r = static_cast<S7Request*>(opaque);
  sim::SimContext& c = *r->s->sim;
  c.Check(r->completions == 0,
          "a pool request's completion callback ran twice (back on pool->head after it "
          "was removed)");
  c.Check(c.platform().threads().Current() == r->s->home,
          "a pool request's completion callback ran outside the home thread");
  c.Check(ret == r->result,
          "a pool request completed with another value than its result");
  r->completions++;
}

void KickCallback(void*) {}

bool BothCompleted(S7State* s) { return s->a.completions > 0 && s->b.completions > 0; }

// Every function has returned and no worker holds a request: each worker scheduled
// the completion BH in the critical section in which it went idle (or exited).
bool PoolQuiet(S7State* s, ThreadPool* pool) {
  if (atomic_read(&s->funcs_returned) < 2) return false;
  ThreadPoolStats st = thread_pool_stats(pool);
  return st.cur_threads == st.idle_threads + st.new_threads + st.pending_threads;
}

void CheckCounters(sim::SimContext& c, ThreadPool* pool, int cur, int new_threads,
                   const char* what) {
  ThreadPoolStats st = thread_pool_stats(pool);
  c.Check(st.cur_threads == cur && st.new_threads == new_threads &&
              st.pending_threads == 0 && st.idle_threads == 0,
          what);
  c.Check(st.cur_threads <= st.max_threads, "the pool has more than max_threads workers");
}

void HomeBody(sim::SimContext& c, AioContext* ctx, ThreadPool* pool, S7State& s,
              bool burst) {
  s.a_waits = true;
  thread_pool_submit_aio(pool, S7Func, &s.a, S7Done, &s.a);
  CheckCounters(c, pool, 1, 1,
                "no idle thread, none pending: the first submit must owe one worker and "
                "schedule new_thread_bh (cur_threads 1, new_threads 1)");
  if (burst) {
    thread_pool_submit_aio(pool, S7Func, &s.b, S7Done, &s.b);
    CheckCounters(c, pool, 2, 2,
                  "no worker exists yet: the second submit must owe a second one "
                  "(cur_threads 2, new_threads 2)");
  } else {
    while (!atomic_read(&s.a_started)) aio_poll(ctx, true);
    thread_pool_submit_aio(pool, S7Func, &s.b, S7Done, &s.b);
    CheckCounters(c, pool, 2, 1,
                  "the only worker is busy: the second submit must owe a second worker "
                  "(cur_threads 2, new_threads 1)");
  }
  while (!BothCompleted(&s)) aio_poll(ctx, true);
  ThreadPoolStats st = thread_pool_stats(pool);
  c.Check(st.cur_threads <= 2 && st.requests == 0,
          "after both requests completed the pool has more than the two workers the "
          "spawn rule owed, or a request left on pool->head");
}

// `acquired`: both submits hold the context (aio_context_acquire), as aio_poll does
// around its dispatch, so pool->head is touched under ctx->lock only.
void ForeignBody(sim::SimContext& c, AioContext* ctx, ThreadPool* pool, S7State& s,
                 bool acquired) {
  ThreadId vcpu = Spawn(c, "vcpu", [&s, ctx, pool, acquired] {
    if (acquired) aio_context_acquire(ctx);
    thread_pool_submit_aio(pool, S7Func, &s.b, S7Done, &s.b);  // not the home thread
    if (acquired) aio_context_release(ctx);
  });
  if (acquired) aio_context_acquire(ctx);
  BlockAIOCB* acb_a = thread_pool_submit_aio(pool, S7Func, &s.a, S7Done, &s.a);
  if (acquired) aio_context_release(ctx);
  qemu_aio_ref(acb_a);  // A's memory stays valid: a repeated completion is observable
  while (!BothCompleted(&s) && !PoolQuiet(&s, pool)) aio_poll(ctx, true);
  while (aio_poll(ctx, false)) {
  }
  c.Check(s.a.completions == 1 && s.b.completions == 1,
          "a pool request's completion callback never ran (its request was lost from "
          "pool->head)");
  Join(c, vcpu);
  qemu_aio_unref(acb_a);
}

sim::Body MakeBody(const Options& options) {
  const std::string submitter = OptionValue(options, "submitter");
  const bool foreign = submitter.starts_with("foreign");
  const bool acquired = submitter == "foreign-acquired";
  const bool burst = submitter == "home-burst";
  return [foreign, acquired, burst, options](sim::SimContext& c) {
    AioRuntime rt(&c.platform());
    AioContext* ctx = aio_context_new(&rt, ContextOptions(options));
    ThreadPool* pool = aio_get_thread_pool(ctx);
    S7State s;
    s.sim = &c;
    s.home = c.platform().threads().Current();
    s.a.s = &s;
    s.a.result = 10;
    s.b.s = &s;
    s.b.result = 20;
    s.kick = aio_bh_new_full(ctx, KickCallback, nullptr, "kick");
    c.SetPending([&s] {
      return s.a.completions == 0 || s.b.completions == 0
                 ? std::string("a pool request's completion callback has not run")
                 : std::string();
    });
    if (foreign) {
      ForeignBody(c, ctx, pool, s, acquired);
    } else {
      HomeBody(c, ctx, pool, s, burst);
    }
    qemu_bh_delete(s.kick);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
  };
}

}  // namespace

Scenario MakeS7() {
  Scenario s;
  s.id = "S7";
  s.title = "thread_pool_submit_aio from the home thread, and from a foreign thread";
  s.summary =
      "From the home thread: a submit while the only worker is busy owes a second "
      "worker (idle_threads == 0 && cur_threads < max_threads; new_thread_bh creates "
      "it); two submits before the loop runs owe two, and the first worker creates "
      "the second as it starts (pending_threads); the counters are exactly the spawn "
      "rule's, and both requests complete once with their results (exhaustive search). "
      "From a foreign thread while the home "
      "thread submits and polls: pool->head, an unlocked list, is torn — a request is "
      "lost and never completes, or a completed one is back on the list and completes "
      "twice (found with one preemption). A foreign thread that holds the context "
      "(aio_context_acquire) may submit: nothing is found. Modern (QEMU 10.2): the "
      "spawn rule is the same; a foreign submit fails QEMU's assertion that the "
      "caller's current context is the pool's (8.0), before it touches pool->head.";
  s.source = "SEED-CLAIMS.md S7; QEMU-SEMANTICS.md 1.7";
  s.options = {{"submitter",
                {"home", "home-burst", "foreign", "foreign-acquired"},
                "who submits the second request, and when: the home thread while the "
                "first runs, the home thread right after the first, a foreign thread, "
                "or a foreign thread holding the context (aio_context_acquire, as the "
                "home thread's own submit then does too)",
                {{"foreign-acquired", "aio_context_acquire was removed in QEMU 9.0"}}}};
  s.expected = [](const Options& o) {
    return OptionValue(o, "submitter") == "foreign" ? sim::FailureKind::kAssertion
                                                    : sim::FailureKind::kNone;
  };
  // With --races: the unlocked pool->head insertions of the two submitters race in
  // the first execution, before the torn list shows.
  s.races_first = [](const Options& o) { return OptionValue(o, "submitter") == "foreign"; };
  s.modern_status = Scenario::ModernStatus::kRuns;
  s.modern_why.clear();
  s.catalog = {"S7"};
  s.exhaust_bound = 1;
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios

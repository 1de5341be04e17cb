// sim/strategy.cc — see strategy.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/strategy.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace aiosim::sim {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Rng::Rng(uint64_t seed) {
  uint64_t sm = seed;
  for (uint64_t& s : s_) s = SplitMix64(&sm);
}

static inline uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint32_t Rng::Below(uint32_t n) {
  uint64_t m = static_cast<uint64_t>(static_cast<uint32_t>(Next() >> 32)) * n;
  uint32_t low = static_cast<uint32_t>(m);
  if (low < n) {
    const uint32_t threshold = static_cast<uint32_t>(-n) % n;
    while (low < threshold) {
      m = static_cast<uint64_t>(static_cast<uint32_t>(Next() >> 32)) * n;
      low = static_cast<uint32_t>(m);
    }
  }
  return static_cast<uint32_t>(m >> 32);
}

uint32_t DefaultChoice(const ChoicePoint& p) {
  if (p.kind != ChoiceKind::kSchedule) return 0;
  if (p.current >= 0) {
    const uint32_t threads = p.n - (p.time_advance ? 1 : 0);
    for (uint32_t i = 0; i < threads; i++) {
      if (p.threads[i] == p.current) return i;
    }
  }
  return 0;  // the lowest id (threads are sorted)
}

// Chooses among the thread options only, never the time jump.
static uint32_t ThreadOptions(const ChoicePoint& p) { return p.n - (p.time_advance ? 1 : 0); }

// ---- random ----------------------------------------------------------------------------

bool RandomStrategy::BeginExecution(uint64_t index) {
  uint64_t s = seed_ ^ (index * 0x9e3779b97f4a7c15ull);
  rng_ = Rng(SplitMix64(&s));
  static constexpr uint32_t kSwitchOneIn[] = {1, 4, 16, 64};
  switch_one_in_ = kSwitchOneIn[index % 4];
  return true;
}

uint32_t RandomStrategy::Choose(const ChoicePoint& p) {
  switch (p.kind) {
    case ChoiceKind::kSchedule: {
      if (p.time_advance && rng_.Below(64) == 0) return p.n - 1;
      const uint32_t pick = rng_.Below(ThreadOptions(p));
      if (switch_one_in_ == 1) return pick;
      // The chosen thread then runs a quantum of q points, q uniform in [1, 2s - 1]
      // (mean s), before the next choice.
      const uint32_t q = 1 + rng_.Below(2 * switch_one_in_ - 1);
      return pick + p.n * (q - 1);
    }
    case ChoiceKind::kSpuriousWakeup:
    case ChoiceKind::kEintr:
      return rng_.Below(8) == 0 ? 1 : 0;
  }
  return 0;
}

static_assert(2 * 64 <= kQuantumMax, "random quanta fit in a choice value");

std::string RandomStrategy::Describe() const {
  return absl::StrFormat("random walk, seed %d; execution i is seeded SplitMix64(seed ^ "
                         "i*golden) and chooses a thread every q points, q uniform with mean "
                         "{1,4,16,64}[i%%4]",
                         seed_);
}

// ---- PCT -------------------------------------------------------------------------------

PctStrategy::PctStrategy(uint64_t seed, int depth, uint64_t steps_estimate)
    : seed_(seed), depth_(std::max(depth, 1)), k_(std::max<uint64_t>(steps_estimate, 1)),
      rng_(seed) {}

bool PctStrategy::BeginExecution(uint64_t index) {
  uint64_t s = seed_ ^ (index * 0x9e3779b97f4a7c15ull);
  rng_ = Rng(SplitMix64(&s));
  priority_.clear();
  change_at_.clear();
  for (int i = 0; i < depth_ - 1; i++) {
    change_at_.push_back(1 + rng_.Next() % k_);
  }
  std::sort(change_at_.begin(), change_at_.end());
  choices_ = 0;
  changes_done_ = 0;
  return true;
}

uint32_t PctStrategy::Choose(const ChoicePoint& p) {
  if (p.kind != ChoiceKind::kSchedule) return rng_.Below(8) == 0 ? 1 : 0;
  ++choices_;
  const uint32_t threads = ThreadOptions(p);
  // Priorities: d + a random 32-bit value for a new thread (so every initial priority
  // is above the d - 1 low priorities that change points assign).
  for (uint32_t i = 0; i < threads; i++) {
    const int t = p.threads[i];
    if (t >= static_cast<int>(priority_.size())) priority_.resize(t + 1, 0);
    if (priority_[t] == 0) priority_[t] = static_cast<uint64_t>(depth_) + 1 + (rng_.Next() >> 32);
    max_threads_ = std::max(max_threads_, t + 1);
  }
  // A change point: the thread that reached it drops to priority (d - 1 - j).
  while (changes_done_ < static_cast<int>(change_at_.size()) &&
         change_at_[changes_done_] <= choices_) {
    if (p.current >= 0) {
      priority_[p.current] = static_cast<uint64_t>(depth_ - 1 - changes_done_);
    }
    changes_done_++;
  }
  if (p.time_advance && rng_.Below(64) == 0) return p.n - 1;
  uint32_t best = 0;
  for (uint32_t i = 1; i < threads; i++) {
    if (priority_[p.threads[i]] > priority_[p.threads[best]]) best = i;
  }
  return best;
}

void PctStrategy::EndExecution(const ExecResult& result) {
  uint64_t schedule_choices = 0;
  for (const ChoiceRecord& c : result.choices) {
    if (c.kind == ChoiceKind::kSchedule) schedule_choices++;
  }
  k_ = std::max(k_, schedule_choices);
}

std::string PctStrategy::ProbabilityBound() const {
  const double bound =
      1.0 / (static_cast<double>(max_threads_) * std::pow(static_cast<double>(k_), depth_ - 1));
  return absl::StrFormat("1/(%d*%d^%d) = %.3g", max_threads_, static_cast<int64_t>(k_),
                         depth_ - 1, bound);
}

std::string PctStrategy::Describe() const {
  return absl::StrFormat("PCT, seed %d, depth d=%d, k=%d steps; per-execution probability "
                         "of a depth-%d bug >= %s",
                         seed_, depth_, static_cast<int64_t>(k_), depth_, ProbabilityBound());
}

// ---- replay ----------------------------------------------------------------------------

bool ReplayStrategy::BeginExecution(uint64_t) {
  pos_ = 0;
  return true;
}

uint32_t ReplayStrategy::Choose(const ChoicePoint& p) {
  if (pos_ >= choices_.size()) return p.n;  // out of range: diverged
  return choices_[pos_++];
}

// ---- deviations ------------------------------------------------------------------------

bool DeviationStrategy::BeginExecution(uint64_t) {
  taken_.clear();
  return true;
}

uint32_t DeviationStrategy::Choose(const ChoicePoint& p) {
  const uint32_t fallback = DefaultChoice(p);
  const Deviation* d = nullptr;
  for (const Deviation& x : deviations_) {
    if (x.Matches(p)) {
      d = &x;
      break;
    }
  }
  if (d == nullptr) return fallback;
  uint32_t pick = fallback;
  if (p.kind != ChoiceKind::kSchedule) {
    if (d->thread == -1 && d->value < p.n) pick = d->value;
  } else if (d->thread == -2) {
    if (p.time_advance) pick = p.n - 1;
  } else {
    for (uint32_t k = 0; k < ThreadOptions(p); k++) {
      if (p.threads[k] == d->thread) pick = k;
    }
  }
  if (pick != fallback) taken_.push_back(*d);
  return pick;
}

bool DeviationRecorder::BeginExecution(uint64_t index) {
  deviations_.clear();
  return inner_->BeginExecution(index);
}

uint32_t DeviationRecorder::Choose(const ChoicePoint& p) {
  const uint32_t value = inner_->Choose(p);
  // Points inside a quantum are not asked about: they take the default (the running
  // thread goes on), so only the option matters here.
  const uint32_t pick = p.kind == ChoiceKind::kSchedule ? value % p.n : value;
  if (value >= p.n * kQuantumMax || pick == DefaultChoice(p)) return value;
  Deviation d{p.running, p.running_points, p.sub, -1, pick};
  if (p.kind == ChoiceKind::kSchedule) {
    d.thread = (p.time_advance && pick == p.n - 1) ? -2 : p.threads[pick];
  }
  deviations_.push_back(d);
  return value;
}

// ---- bounded exhaustive ----------------------------------------------------------------

namespace {
bool IsRead(OpKind k) { return k == OpKind::kLoad || k == OpKind::kPlainLoad; }
bool Independent(const PendingOp& a, const PendingOp& b) {
  // Memory is sequentially consistent in the simulator, so a fence changes nothing
  // another thread can observe: it commutes with every operation of other threads.
  // (Its happens-before effect, for the race detector, only concerns its own thread's
  // accesses and the loads that read them, whichever order it takes with others.)
  if (a.kind == OpKind::kFence || b.kind == OpKind::kFence) return true;
  if (a.obj == 0 || b.obj == 0) return false;
  if (a.obj != b.obj) return true;
  return IsRead(a.kind) && IsRead(b.kind);
}
}  // namespace

bool DfsStrategy::Asleep(const Node& node, uint32_t option) const {
  if (node.kind != ChoiceKind::kSchedule || option >= node.threads.size()) return false;
  for (const Sleeper& s : node.sleep) {
    if (s.thread == node.threads[option]) return true;
  }
  return false;
}

int DfsStrategy::PreemptionCost(const Node& node, uint32_t option) const {
  if (node.kind != ChoiceKind::kSchedule || node.current < 0) return 0;
  if (option >= node.threads.size()) return 1;  // a time jump while the thread could go on
  return node.threads[option] != node.current ? 1 : 0;
}

bool DfsStrategy::Allowed(const Node& node, uint32_t option) const {
  return node.preemptions_before + PreemptionCost(node, option) <= bound_;
}

bool DfsStrategy::BeginExecution(uint64_t) {
  if (!started_) {
    started_ = true;
    bound_ = 0;
    stack_.clear();
    replay_len_ = 0;
  }
  depth_ = 0;
  return !finished_;
}

uint32_t DfsStrategy::Choose(const ChoicePoint& p) {
  if (depth_ < replay_len_) {
    const Node& node = stack_[depth_++];
    return node.chosen < p.n ? node.chosen : p.n;  // p.n: diverged (nondeterminism)
  }
  Node node;
  node.kind = p.kind;
  node.n = p.n;
  node.current = p.current;
  node.time_advance = p.time_advance;
  if (p.kind == ChoiceKind::kSchedule) {
    node.threads.assign(p.threads, p.threads + ThreadOptions(p));
    node.ops.assign(p.ops, p.ops + ThreadOptions(p));
  }
  node.preemptions_before = 0;
  if (depth_ > 0) {
    const Node& parent = stack_[depth_ - 1];
    node.preemptions_before = parent.preemptions_before + PreemptionCost(parent, parent.chosen);
    // Sleep set: what slept at the parent, plus the parent's options explored before
    // this one, stays asleep if independent of the operation just executed.
    if (parent.kind != ChoiceKind::kSchedule) {
      node.sleep = parent.sleep;
    } else if (parent.chosen < parent.threads.size()) {
      const PendingOp executed = parent.ops[parent.chosen];
      auto keep = [&](const Sleeper& s) {
        if (s.thread != parent.threads[parent.chosen] && Independent(s.op, executed)) {
          node.sleep.push_back(s);
        }
      };
      for (const Sleeper& s : parent.sleep) keep(s);
      for (uint32_t d : parent.done) {
        if (d != parent.chosen && d < parent.threads.size()) {
          keep(Sleeper{parent.threads[d], parent.ops[d]});
        }
      }
    }
  }
  // First choice: the non-preemptive default if allowed and awake, else the first
  // allowed option.
  uint32_t pick = DefaultChoice(p);
  if (!Allowed(node, pick) || Asleep(node, pick)) {
    bool found = false;
    for (uint32_t o = 0; o < p.n && !found; o++) {
      if (Allowed(node, o) && !Asleep(node, o)) {
        pick = o;
        found = true;
      }
    }
    if (!found) pruned_++;  // every option asleep: this run is redundant, finish it
  }
  node.chosen = pick;
  node.done.push_back(pick);
  stack_.push_back(std::move(node));
  depth_++;
  return pick;
}

void DfsStrategy::EndExecution(const ExecResult&) {
  stack_.resize(depth_);  // a failing run may stop early
  if (!Advance()) finished_ = true;
}

bool DfsStrategy::Advance() {
  for (;;) {
    while (!stack_.empty()) {
      Node& node = stack_.back();
      for (uint32_t o = 0; o < node.n; o++) {
        if (std::find(node.done.begin(), node.done.end(), o) != node.done.end()) continue;
        if (!Allowed(node, o)) continue;
        node.done.push_back(o);
        if (Asleep(node, o)) {
          pruned_++;
          continue;
        }
        node.chosen = o;
        replay_len_ = stack_.size();
        return true;
      }
      stack_.pop_back();
    }
    // This bound is exhausted: start again with one more preemption allowed.
    if (++bound_ > bound_max_) return false;
    replay_len_ = 0;
    return true;
  }
}

std::string DfsStrategy::Describe() const {
  return absl::StrFormat("bounded exhaustive search (DFS, sleep sets), preemption bound %d, "
                         "in rounds 0..%d",
                         bound_max_, bound_max_);
}

}  // namespace aiosim::sim

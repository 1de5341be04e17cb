// sim/dfs.cc — see dfs.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/dfs.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace aiosim::sim {

namespace {

bool IsRead(OpKind k) { return k == OpKind::kLoad || k == OpKind::kPlainLoad; }

// Whether two pending operations of different threads commute. Memory is
// sequentially consistent in the simulator, so a fence changes nothing another thread
// can observe (its happens-before effect, for the race detector, concerns only its
// own thread's accesses and the loads that read them). Object 0 means "several
// objects or the scheduler itself" (polls, frees, spawns, condition waits): dependent
// with everything.
bool Independent(const PendingOp& a, const PendingOp& b) {
  if (a.kind == OpKind::kFence || b.kind == OpKind::kFence) return true;
  if (a.obj == 0 || b.obj == 0) return false;
  if (a.obj != b.obj) return true;
  return IsRead(a.kind) && IsRead(b.kind);
}

}  // namespace

int DfsStrategy::Node::Cost(uint32_t option) const {
  if (kind != ChoiceKind::kSchedule || current < 0) return 0;
  const Option& o = options[option];
  return o.kind == OptionKind::kThread && o.arg == static_cast<uint32_t>(current) ? 0 : 1;
}

DfsStrategy::DfsStrategy(int preemptions, uint64_t frontier_bytes_max)
    : bound_(preemptions < 0 ? kUnbounded : preemptions),
      frontier_bytes_max_(std::max<uint64_t>(frontier_bytes_max, 1)) {
  path_.push_back(PathNode{0, 0, 0});  // the root: no choice
}

DfsStrategy::Node DfsStrategy::MakeNode(const ChoicePoint& p) const {
  Node node;
  node.kind = p.kind;
  node.current = p.current;
  node.n = p.n;
  node.chosen = 0;
  node.def = DefaultChoice(p);
  node.tail_before = 0;
  node.tail = 0;
  node.preemptions_before = 0;
  node.options.assign(p.options, p.options + p.n);
  if (bound_ == kUnbounded && p.kind == ChoiceKind::kSchedule && p.ops != nullptr) {
    for (uint32_t i = 0; i < p.n; i++) {
      node.ops.push_back(p.options[i].kind == OptionKind::kThread ? p.ops[i]
                                                                  : PendingOp{});
    }
  }
  node.state.assign(p.n, kUntried);
  return node;
}

void DfsStrategy::SetTail(Node* node, size_t depth) {
  if (node->chosen == node->def || (bound_ != kUnbounded && round_ >= bound_)) {
    // The default adds nothing to the path; in the last round no item is deferred,
    // and tails are read only to defer one (Defer).
    node->tail = node->tail_before;
    return;
  }
  if (frontier_full_ || FrontierBytes() + sizeof(PathNode) > frontier_bytes_max_) {
    // Full: nothing more is deferred (Expand drops it), so no tail is read.
    frontier_full_ = true;
    node->tail = node->tail_before;
    return;
  }
  path_.push_back(
      PathNode{node->tail_before, static_cast<uint32_t>(depth), node->chosen});
  node->tail = static_cast<uint32_t>(path_.size() - 1);
}

bool DfsStrategy::Asleep(const Node& node, uint32_t option) const {
  if (node.kind != ChoiceKind::kSchedule ||
      node.options[option].kind != OptionKind::kThread) {
    return false;
  }
  for (const Sleeper& s : node.sleep) {
    if (s.thread == static_cast<int>(node.options[option].arg)) return true;
  }
  return false;
}

const DfsStrategy::PathEntry* DfsStrategy::PathAt(size_t depth) const {
  auto it = std::lower_bound(item_path_.begin(), item_path_.end(), depth,
                             [](const PathEntry& e, size_t d) { return e.depth < d; });
  return it != item_path_.end() && it->depth == depth ? &*it : nullptr;
}

bool DfsStrategy::BeginExecution(uint64_t) {
  if (!started_) {
    started_ = true;
    round_ = 0;
    // The root item: round 0 is the tree of schedules without a preemption.
    item_path_.clear();
    item_sleep_.clear();
    floor_ = 0;
    stack_.clear();
    replay_len_ = 0;
  }
  if (finished_) return false;
  depth_ = 0;
  redundant_ = false;
  divergence_.clear();
  return true;
}

bool DfsStrategy::NextItem() {
  while (items_.empty()) {
    if (next_items_.empty()) return false;
    round_++;
    items_.swap(next_items_);
  }
  // The newest item first: the deepest preemption points of the round's last
  // executions, as a depth-first search would reach them.
  const WorkItem w = items_.back();
  items_.pop_back();
  item_path_.clear();
  for (uint32_t k = w.path; k != 0; k = path_[k].parent) {
    item_path_.push_back(PathEntry{path_[k].depth, path_[k].option, k});
  }
  std::reverse(item_path_.begin(), item_path_.end());
  item_path_.push_back(PathEntry{w.depth, w.option, 0});  // its node: made when reached
  item_sleep_.clear();
  if (w.sleep != 0) {
    sleep_bytes_ -= sleep_sets_[w.sleep - 1].size() * sizeof(Sleeper);
    item_sleep_ = std::move(sleep_sets_[w.sleep - 1]);
    sleep_sets_[w.sleep - 1].clear();
    sleep_sets_[w.sleep - 1].shrink_to_fit();
  }
  stack_.clear();
  replay_len_ = 0;
  floor_ = w.depth + 1;
  return true;
}

void DfsStrategy::Defer(const Node& node, uint32_t option) {
  WorkItem w;
  w.path = node.tail_before;
  w.depth = static_cast<uint32_t>(stack_.size());
  w.option = option;
  if (bound_ == kUnbounded && node.kind == ChoiceKind::kSchedule) {
    // The deferred option comes after every option explored in this round and after
    // the options deferred before it (dfs.h: the order that keeps sleep sets sound).
    std::vector<Sleeper> sleep = node.sleep;
    for (uint32_t o = 0; o < node.n; o++) {
      const bool before = node.state[o] == kExplored || node.state[o] == kUntried ||
                          (node.state[o] == kDeferred && o < option);
      if (o != option && before && node.options[o].kind == OptionKind::kThread) {
        sleep.push_back(Sleeper{static_cast<int>(node.options[o].arg), node.ops[o]});
      }
    }
    sleep_bytes_ += sleep.size() * sizeof(Sleeper);
    sleep_sets_.push_back(std::move(sleep));
    w.sleep = static_cast<uint32_t>(sleep_sets_.size());
  }
  next_items_.push_back(w);
  deferred_++;
}

uint32_t DfsStrategy::Expand(Node* node) {
  const uint32_t def = node->def;
  if (redundant_) {
    // Below a point where everything was asleep: this execution only repeats
    // equivalent ones; finish it without exploring alternatives.
    for (uint32_t o = 0; o < node->n; o++) node->state[o] = kPruned;
    node->state[def] = kExplored;
    return def;
  }
  int first = -1;
  over_.clear();
  for (uint32_t k = 0; k < node->n; k++) {
    const uint32_t o = k == 0 ? def : (k <= def ? k - 1 : k);  // the default first
    if (Asleep(*node, o)) {
      node->state[o] = kPruned;
      pruned_++;
      continue;
    }
    if (node->preemptions_before + node->Cost(o) > round_) {
      over_.push_back(o);
      continue;
    }
    if (first < 0) first = static_cast<int>(o);
  }
  const bool defer = bound_ == kUnbounded || round_ + 1 <= bound_;
  // Every state first (Defer reads the node's states), then the work items. An
  // option that would take the frontier over its limit is dropped, and so is every
  // later one (frontier_full_).
  uint64_t projected = defer && !frontier_full_ ? FrontierBytes() : 0;
  for (uint32_t o : over_) {
    if (!defer) {
      node->state[o] = kBeyondBound;
      beyond_bound_++;
      continue;
    }
    if (!frontier_full_ && projected + sizeof(WorkItem) > frontier_bytes_max_) {
      frontier_full_ = true;
    }
    if (frontier_full_) {
      node->state[o] = kDropped;
      dropped_++;
      if (drop_round_ < 0) drop_round_ = round_;
      continue;
    }
    node->state[o] = kDeferred;
    projected += sizeof(WorkItem);
  }
  for (uint32_t o : over_) {
    if (node->state[o] == kDeferred) Defer(*node, o);
  }
  if (first < 0) {
    redundant_ = true;
    node->state[def] = kExplored;
    return def;
  }
  node->state[first] = kExplored;
  return static_cast<uint32_t>(first);
}

Decision DfsStrategy::Choose(const ChoicePoint& p) {
  if (depth_ < replay_len_) {
    const Node& node = stack_[depth_];
    if (node.n != p.n || node.kind != p.kind) {
      divergence_ = absl::StrFormat(
          "the program is not deterministic: replaying the search's prefix, choice %d "
          "has %d options (%s), it had %d (%s)",
          depth_, p.n, ChoiceKindName(p.kind), node.n, ChoiceKindName(node.kind));
      return {p.n, 0};
    }
    depth_++;
    return {node.chosen, 0};
  }
  Node node = MakeNode(p);
  if (depth_ > 0) {
    const Node& parent = stack_[depth_ - 1];
    node.preemptions_before = parent.preemptions_before + parent.Cost(parent.chosen);
    node.tail_before = parent.tail;
    if (bound_ == kUnbounded) {
      // Sleep set: what was asleep above, plus the parent's options explored before
      // the one taken, stays asleep while independent of the operation executed.
      if (parent.kind != ChoiceKind::kSchedule) {
        node.sleep = parent.sleep;  // no operation was executed at that choice
      } else if (parent.options[parent.chosen].kind == OptionKind::kThread) {
        const int ran = static_cast<int>(parent.options[parent.chosen].arg);
        const PendingOp executed = parent.ops[parent.chosen];
        auto keep = [&](const Sleeper& s) {
          if (s.thread != ran && Independent(s.op, executed)) node.sleep.push_back(s);
        };
        if (depth_ == floor_ && floor_ > 0) {
          for (const Sleeper& s : item_sleep_) keep(s);
        } else {
          for (const Sleeper& s : parent.sleep) keep(s);
          for (uint32_t o = 0; o < parent.n; o++) {
            if (o != parent.chosen && parent.state[o] == kExplored &&
                parent.options[o].kind == OptionKind::kThread) {
              keep(Sleeper{static_cast<int>(parent.options[o].arg), parent.ops[o]});
            }
          }
        }
      }
    }
  }
  if (depth_ < floor_) {
    const PathEntry* e = PathAt(depth_);
    node.chosen = e != nullptr ? e->option : node.def;
    if (node.chosen >= p.n) {
      divergence_ = absl::StrFormat(
          "the program is not deterministic: a saved path takes option %d of choice %d, "
          "which now has %d options",
          node.chosen, depth_, p.n);
      return {p.n, 0};
    }
    node.state[node.chosen] = kExplored;
    if (e != nullptr && e->node != 0) {
      node.tail = e->node;  // a path node the item already has
    } else {
      SetTail(&node, depth_);
    }
  } else {
    node.chosen = Expand(&node);
    SetTail(&node, depth_);
  }
  const uint32_t pick = node.chosen;
  stack_.push_back(std::move(node));
  depth_++;
  return {pick, 0};
}

void DfsStrategy::EndExecution(const ExecResult&) {
  stack_.resize(std::min(stack_.size(), depth_));  // a failing run may stop early
  if (!Backtrack()) finished_ = true;
}

bool DfsStrategy::Backtrack() {
  while (stack_.size() > floor_) {
    Node& node = stack_.back();
    for (uint32_t o = 0; o < node.n; o++) {
      if (node.state[o] != kUntried) continue;
      node.state[o] = kExplored;
      node.chosen = o;
      SetTail(&node, stack_.size() - 1);
      replay_len_ = stack_.size();
      return true;
    }
    stack_.pop_back();
  }
  return NextItem();
}

uint64_t DfsStrategy::FrontierBytes() const {
  return (path_.size() - 1) * sizeof(PathNode) +  // path_[0], the root, is not saved
         (items_.size() + next_items_.size()) * sizeof(WorkItem) + sleep_bytes_;
}

size_t DfsStrategy::MemoryBytes() const {
  size_t bytes = stack_.capacity() * sizeof(Node) + path_.capacity() * sizeof(PathNode) +
                 (items_.size() + next_items_.size()) * sizeof(WorkItem) +
                 item_path_.capacity() * sizeof(PathEntry) +
                 sleep_sets_.capacity() * sizeof(std::vector<Sleeper>);
  for (const Node& n : stack_) {
    bytes += n.options.capacity() * sizeof(Option) +
             n.ops.capacity() * sizeof(PendingOp) + n.state.capacity() +
             n.sleep.capacity() * sizeof(Sleeper);
  }
  for (const auto& set : sleep_sets_) bytes += set.capacity() * sizeof(Sleeper);
  return bytes;
}

std::string DfsStrategy::Describe() const {
  if (bound_ == kUnbounded) {
    return "exhaustive search (DFS in rounds of preemption count 0, 1, ... until no work "
           "is left; sleep sets)";
  }
  return absl::StrFormat(
      "bounded exhaustive search (DFS), preemption bound %d, in rounds 0..%d: each "
      "schedule runs once, fewest preemptions first (no sleep sets under a bound)",
      bound_, bound_);
}

StrategyFigures DfsStrategy::Figures() const {
  StrategyFigures f;
  f.description = Describe();
  f.bound = bound_;
  f.round = round_;
  f.complete = finished_ && dropped_ == 0;
  f.finished = finished_;
  f.pruned = pruned_;
  f.beyond_bound = beyond_bound_;
  f.deferred = deferred_;
  f.dropped = dropped_;
  f.frontier_bytes_max = frontier_bytes_max_;
  // The rounds before the current one finished (the current one too if the search
  // did); a round that dropped an option leaves the next ones incomplete.
  if (f.complete) {
    f.complete_through = bound_ == kUnbounded ? round_ : bound_;
  } else {
    f.complete_through = finished_ ? round_ : round_ - 1;
    if (dropped_ > 0) f.complete_through = std::min(f.complete_through, drop_round_);
  }
  return f;
}

Strategy::Reproducer DfsStrategy::ReproduceCurrent(uint64_t index) const {
  Reproducer r;
  r.options = {{"execution", absl::StrCat(index)}};
  r.direct = false;  // execution N needs the search state: the executions before it
  return r;
}

}  // namespace aiosim::sim

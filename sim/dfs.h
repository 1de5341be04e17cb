// sim/dfs.h — bounded exhaustive search: every schedule with at most K preemptions
// (sim/choice.h's PreemptionCost), each run exactly once, fewest preemptions first.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The search runs in rounds, as CHESS's iterative context bounding does (Musuvathi &
// Qadeer, PLDI 2007): round r runs exactly the schedules with r preemptions. Within a
// round the search is a depth-first traversal of the choice tree (stateless: every
// execution replays its prefix from the start). At a new choice, options that keep
// the count at r are explored in this round; an option that would make it r + 1 is
// saved as a work item (the path to it) for round r + 1, or, in the last round,
// counted as beyond the bound. So each schedule runs once, in the round of its
// preemption count, and the first failure found has the fewest preemptions.
// Non-schedule choices (which waiter a signal wakes, spurious wakeups, EINTR) and time
// jumps are explored too.
//
// Partial-order reduction: with a preemption bound, sleep sets are NOT used. Sleep
// sets combined with a preemption bound are unsound — a schedule within the bound can
// be pruned because the only equivalent schedule explored needs more preemptions
// (Coons, Musuvathi & McKinley, OOPSLA 2013) — and they saved only 1-8% on our
// scenarios. Without a bound (kUnbounded) the rounds go on until no work is left and
// sleep sets prune reorderings of independent operations (different objects, two
// loads, or a fence with anything: memory is sequentially consistent); every
// Mazurkiewicz trace is still explored, but the first failure found may have more
// preemptions than the fewest possible.
//
// "Complete" (StrategyFigures::complete) means that every schedule within the bound
// ran, or, unbounded, was proven equivalent to one that ran. The schedules are those
// the execution options allow: at most max_steps points, time_advances_max time jumps,
// and the fairness rule (execution.h).
//
// Invariants (between executions):
//   1. Every node of stack_ below floor_ belongs to the current work item's path.
//   2. A node's `state` marks each option: untried, explored (in this round),
//      deferred (a work item of the next round), beyond the bound, or pruned.
//   3. preemptions_before of a node is the sum of PreemptionCost of the chosen options
//      above it; for every node it is <= round_.
//   4. Work items of round r + 1 are created only while exploring round r.
//   5. FrontierBytes() <= frontier_bytes_max_ (up to one node's deferrals' sleep sets).
#ifndef AIOSIM_SIM_DFS_H_
#define AIOSIM_SIM_DFS_H_

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "sim/strategy.h"

namespace aiosim::sim {

class DfsStrategy final : public Strategy {
 public:
  static constexpr int kUnbounded = -1;
  // The default limit on the saved work (FrontierBytes): 4 GiB.
  static constexpr uint64_t kFrontierBytesDefault = uint64_t{4} << 30;
  // REQUIRES: preemptions >= 0, or kUnbounded; frontier_bytes_max >= 1.
  explicit DfsStrategy(int preemptions,
                       uint64_t frontier_bytes_max = kFrontierBytesDefault);
  bool BeginExecution(uint64_t index) override;
  Decision Choose(const ChoicePoint& point) override;
  void EndExecution(const ExecResult& result) override;
  bool wants_ops() const override { return bound_ == kUnbounded; }
  std::string Describe() const override;
  std::string Divergence() const override { return divergence_; }
  StrategyFigures Figures() const override;
  Reproducer ReproduceCurrent(uint64_t index) const override;

  bool finished() const { return finished_; }
  int round() const { return round_; }
  uint64_t pruned() const { return pruned_; }
  // The heap bytes the search state holds (capacities of its stack, path tree, work
  // items and sleep sets): for benchmarks (bench/dfs_rate.cc).
  size_t MemoryBytes() const;
  // The bytes of the work saved for later rounds: the path tree, the work items and
  // their sleep sets. Held to frontier_bytes_max: an option that would take it over
  // is dropped (not saved, not explored), and from then on nothing more is saved, so
  // the search is not complete (StrategyFigures::dropped, complete_through).
  uint64_t FrontierBytes() const;

 private:
  enum OptionState : uint8_t {
    kUntried,
    kExplored,
    kDeferred,
    kBeyondBound,
    kPruned,
    kDropped,  // over the frontier's memory limit: not saved for its round
  };
  struct Sleeper {
    int thread;
    PendingOp op;
  };
  struct Node {
    ChoiceKind kind;
    int current;
    uint32_t n;
    uint32_t chosen;
    uint32_t def;          // DefaultChoice
    uint32_t tail_before;  // the path_ node of the non-default choices above this node
    uint32_t tail;         // ... and of those up to and including this one
    int preemptions_before;
    // Inline up to a few options: a node is made at every new choice, and the
    // stack's nodes are reused from one execution to the next.
    absl::InlinedVector<Option, 4> options;
    std::vector<PendingOp> ops;             // unbounded only
    absl::InlinedVector<uint8_t, 8> state;  // OptionState per option
    std::vector<Sleeper> sleep;             // unbounded only: asleep on entry
    int Cost(uint32_t option) const;
  };
  // The non-default choices of a path from the root, as a tree shared by every work
  // item and by the current execution: a node is one choice that differs from the
  // default (depth, option) and points to the one above it (0: the root, no choice).
  struct PathNode {
    uint32_t parent;
    uint32_t depth;
    uint32_t option;
  };
  // A deferred option: the choices above it (a PathNode), its depth and option. Twelve
  // bytes, since a round can defer millions; sleep sets only when unbounded.
  struct WorkItem {
    uint32_t path = 0;
    uint32_t depth = 0;
    uint32_t option = 0;
    uint32_t sleep = 0;  // unbounded: index + 1 into sleep_sets_ (0: none)
  };

  // The current work item: its choices by depth (the deferred one last) with their
  // path nodes, and (unbounded) what is asleep for the deferred option.
  struct PathEntry {
    uint32_t depth;
    uint32_t option;
    uint32_t node;
  };

  Node MakeNode(const ChoicePoint& p) const;
  // The item's entry at `depth`, or nullptr (the default is taken there).
  const PathEntry* PathAt(size_t depth) const;
  bool Asleep(const Node& node, uint32_t option) const;
  // Marks the options of a new node (below floor_): explores one, defers or cuts the
  // ones over the bound. Returns the option to take now.
  uint32_t Expand(Node* node);
  void Defer(const Node& node, uint32_t option);
  // Moves to the next unexplored schedule; false when the search is finished.
  bool Backtrack();
  bool NextItem();
  std::vector<uint32_t> over_;  // scratch for Expand

  int bound_;
  int round_ = 0;
  std::vector<Node> stack_;
  size_t depth_ = 0;       // position in stack_ during an execution
  size_t replay_len_ = 0;  // nodes of stack_ to replay before new choices
  size_t floor_ = 0;       // nodes below this belong to the item's path (invariant 1)
  std::vector<PathEntry> item_path_;  // the current work item
  std::vector<Sleeper> item_sleep_;
  std::deque<WorkItem> items_;                    // this round's items still to start
  std::deque<WorkItem> next_items_;               // the next round's
  std::vector<PathNode> path_;                    // path_[0] is the root
  std::vector<std::vector<Sleeper>> sleep_sets_;  // unbounded only
  // Sets node->tail from node->chosen (a new path node for a non-default choice).
  // In the last round of a bounded search nothing is deferred, so no path node is
  // made (the path tree would otherwise grow with every execution of that round);
  // nor once the frontier is full.
  void SetTail(Node* node, size_t depth);
  uint64_t frontier_bytes_max_;
  bool frontier_full_ = false;  // at the limit: nothing more is saved
  int drop_round_ = -1;         // the round of the first dropped option
  uint64_t dropped_ = 0;
  uint64_t sleep_bytes_ = 0;  // the Sleepers of sleep_sets_ (unbounded only)
  bool started_ = false;
  bool finished_ = false;
  bool redundant_ = false;  // this execution only repeats equivalent ones (sleep sets)
  uint64_t pruned_ = 0;
  uint64_t beyond_bound_ = 0;
  uint64_t deferred_ = 0;
  std::string divergence_;
};

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_DFS_H_

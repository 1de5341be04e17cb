// properties/program.cc — see program.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "properties/program.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace aiosim::properties {
namespace {

constexpr OpInfo kInfo[] = {
    {OpCode::kBhNew, 'N', "aio_bh_new", ObjectKind::kBh, false},
    {OpCode::kBhNewNested, 'M', "aio_bh_new(nesting cb)", ObjectKind::kBh, false},
    {OpCode::kSchedule, 'S', "qemu_bh_schedule", ObjectKind::kBh, false},
    {OpCode::kScheduleIdle, 'I', "qemu_bh_schedule_idle", ObjectKind::kBh, false},
    {OpCode::kCancel, 'C', "qemu_bh_cancel", ObjectKind::kBh, false},
    {OpCode::kDelete, 'D', "qemu_bh_delete", ObjectKind::kBh, false},
    {OpCode::kOneshot, 'O', "aio_bh_schedule_oneshot", ObjectKind::kNone, false},
    {OpCode::kPoll, 'P', "aio_poll(false)", ObjectKind::kNone, false},
    {OpCode::kWait, 'W', "aio_poll(true)", ObjectKind::kNone, false},
    {OpCode::kNotify, 'Y', "aio_notify", ObjectKind::kNone, false},
    {OpCode::kFdAdd, 'A', "aio_set_event_notifier", ObjectKind::kNotifier, false},
    {OpCode::kFdAddExternal, 'X', "aio_set_event_notifier(external)",
     ObjectKind::kNotifier, false},
    {OpCode::kFdAddRemover, 'Z', "aio_set_event_notifier(removing cb)",
     ObjectKind::kNotifier, false},
    {OpCode::kFdRemove, 'R', "aio_set_event_notifier(NULL)", ObjectKind::kNotifier,
     false},
    {OpCode::kSet, 'E', "event_notifier_set", ObjectKind::kNotifier, false},
    {OpCode::kDisableExternal, 'd', "aio_disable_external", ObjectKind::kNone, false},
    {OpCode::kEnableExternal, 'e', "aio_enable_external", ObjectKind::kNone, false},
    {OpCode::kTimerMod, 'T', "timer_mod", ObjectKind::kTimer, true},
    {OpCode::kTimerAnticipate, 'U', "timer_mod_anticipate", ObjectKind::kTimer, true},
    {OpCode::kTimerDel, 'K', "timer_del", ObjectKind::kTimer, false},
    {OpCode::kSubmit, 'Q', "thread_pool_submit_aio", ObjectKind::kRequest, false},
    {OpCode::kPoolCancelAsync, 'F', "bdrv_aio_cancel_async", ObjectKind::kRequest, false},
    {OpCode::kPoolCancel, 'L', "bdrv_aio_cancel", ObjectKind::kRequest, false},
    {OpCode::kBhNewSelfDeleting, 'B', "aio_bh_new(self-deleting cb)", ObjectKind::kBh,
     false},
    {OpCode::kSubmitWaiting, 'V', "thread_pool_submit_aio(waiting cb)",
     ObjectKind::kRequest, false},
    {OpCode::kClockToggle, 'G', "qemu_clock_enable(false, true)", ObjectKind::kNone,
     false},
};
static_assert(std::size(kInfo) == static_cast<size_t>(OpCode::kCount));

int ObjectCount(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kNone: return 1;
    case ObjectKind::kBh: return kBhs;
    case ObjectKind::kNotifier: return kNotifiers;
    case ObjectKind::kTimer: return kTimers;
    case ObjectKind::kRequest: return kRequests;
  }
  return 1;
}

char ObjectLetter(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kBh: return 'b';
    case ObjectKind::kNotifier: return 'e';
    case ObjectKind::kTimer: return 't';
    case ObjectKind::kRequest: return 'p';
    case ObjectKind::kNone: break;
  }
  return '?';
}

const OpInfo* FromLetter(char c) {
  for (const OpInfo& i : kInfo) {
    if (i.letter == c) return &i;
  }
  return nullptr;
}

}  // namespace

const OpInfo& Info(OpCode code) { return kInfo[static_cast<size_t>(code)]; }

size_t Program::Ops() const {
  size_t n = 0;
  for (const auto& t : threads) n += t.size();
  return n;
}

std::string OpText(const Op& op) {
  const OpInfo& i = Info(op.code);
  std::string s = i.name;
  if (i.object != ObjectKind::kNone) absl::StrAppend(&s, " ", std::string(1, ObjectLetter(i.object)), op.obj);
  if (i.has_delay) absl::StrAppend(&s, " +", op.arg, "ms");
  return s;
}

std::string ThreadName(int thread) {
  return thread == 0 ? std::string("home") : absl::StrCat("f", thread);
}

std::string Describe(const Program& p) {
  std::vector<std::vector<std::string>> cols;
  size_t rows = 0;
  for (size_t t = 0; t < p.threads.size(); ++t) {
    std::vector<std::string> col = {ThreadName(static_cast<int>(t))};
    for (const Op& op : p.threads[t]) col.push_back(OpText(op));
    if (p.threads[t].empty()) col.push_back("(nothing)");
    rows = std::max(rows, col.size());
    cols.push_back(std::move(col));
  }
  std::vector<size_t> width;
  for (const auto& col : cols) {
    size_t w = 0;
    for (const auto& cell : col) w = std::max(w, cell.size());
    width.push_back(w);
  }
  std::string out;
  for (size_t r = 0; r < rows; ++r) {
    std::string line = r == 0 ? "       " : absl::StrFormat("  %3d  ", r);
    for (size_t c = 0; c < cols.size(); ++c) {
      const std::string cell = r < cols[c].size() ? cols[c][r] : "";
      line += cell;
      if (c + 1 < cols.size()) line += std::string(width[c] - cell.size() + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (r == 0) {
      std::string rule = "       ";
      for (size_t c = 0; c < cols.size(); ++c) {
        rule += std::string(width[c], '-');
        if (c + 1 < cols.size()) rule += "   ";
      }
      out += rule + "\n";
    }
  }
  return out;
}

std::string Encode(const Program& p) {
  std::vector<std::string> threads;
  for (const auto& t : p.threads) {
    std::vector<std::string> ops;
    for (const Op& op : t) {
      const OpInfo& i = Info(op.code);
      std::string s(1, i.letter);
      if (i.object != ObjectKind::kNone) absl::StrAppend(&s, op.obj);
      if (i.has_delay) absl::StrAppend(&s, ".", op.arg);
      ops.push_back(std::move(s));
    }
    threads.push_back(ops.empty() ? std::string("-") : absl::StrJoin(ops, ","));
  }
  return absl::StrJoin(threads, "/");
}

absl::Status Validate(const Program& p) {
  if (p.threads.size() < kThreadsMin || p.threads.size() > kThreadsMax) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "program: %d threads (expected %d to %d)", p.threads.size(), kThreadsMin,
        kThreadsMax));
  }
  for (size_t t = 0; t < p.threads.size(); ++t) {
    if (p.threads[t].size() > kOpsPerThreadMax) {
      return absl::InvalidArgumentError(
          absl::StrFormat("program: thread %s has %d operations (at most %d)",
                          ThreadName(static_cast<int>(t)), p.threads[t].size(),
                          kOpsPerThreadMax));
    }
    for (const Op& op : p.threads[t]) {
      if (static_cast<size_t>(op.code) >= static_cast<size_t>(OpCode::kCount)) {
        return absl::InvalidArgumentError("program: unknown operation code");
      }
      const OpInfo& i = Info(op.code);
      const int n = ObjectCount(i.object);
      if (op.obj < 0 || op.obj >= n) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "program: %s names object %d (expected 0 to %d)", i.name, op.obj, n - 1));
      }
      const int arg_max = i.has_delay ? kTimerDelayMaxMs : 0;
      if (op.arg < 0 || op.arg > arg_max) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "program: %s has argument %d (expected 0 to %d)", i.name, op.arg, arg_max));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Program> Decode(std::string_view text) {
  Program p;
  if (text.empty()) return absl::InvalidArgumentError("program: empty");
  for (absl::string_view thread : absl::StrSplit(absl::string_view(text.data(), text.size()), '/')) {
    std::vector<Op>& ops = p.threads.emplace_back();
    if (p.threads.size() > kThreadsMax) break;  // Validate says so
    if (thread == "-") continue;
    for (absl::string_view item : absl::StrSplit(thread, ',')) {
      if (item.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "program: empty operation in thread ", ThreadName(static_cast<int>(p.threads.size() - 1))));
      }
      const OpInfo* i = FromLetter(item[0]);
      if (i == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "program: unknown operation letter '", std::string(1, item[0]),
            "' (expected one of NMBSICDOPWYAXZREdeTUKQVFL)"));
      }
      Op op;
      op.code = i->code;
      absl::string_view rest = item.substr(1);
      auto number = [&](int* out) {
        size_t n = 0;
        int v = 0;
        while (n < rest.size() && n < 3 && rest[n] >= '0' && rest[n] <= '9') {
          v = v * 10 + (rest[n] - '0');
          ++n;
        }
        if (n == 0 || (n > 1 && rest[0] == '0')) return false;
        *out = v;
        rest.remove_prefix(n);
        return true;
      };
      bool ok = true;
      if (i->object != ObjectKind::kNone) ok = number(&op.obj);
      if (ok && i->has_delay) {
        ok = !rest.empty() && rest[0] == '.';
        if (ok) {
          rest.remove_prefix(1);
          ok = number(&op.arg);
        }
      }
      if (!ok || !rest.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "program: malformed operation '", std::string(item.substr(0, 16)),
            "' (expected a letter, an object number",
            i->has_delay ? ", '.' and a delay in ms)" : ")"));
      }
      ops.push_back(op);
      if (ops.size() > kOpsPerThreadMax) break;  // Validate says so
    }
  }
  if (absl::Status s = Validate(p); !s.ok()) return s;
  return p;
}

}  // namespace aiosim::properties

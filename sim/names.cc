// sim/names.cc — the printable names of the simulator's enums, source locations for
// reports, and the exception describers (execution.h).
// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/choice.h"
#include "sim/execution.h"

namespace aiosim::sim {

namespace {

std::vector<ExceptionDescriber>& Describers() {
  static std::vector<ExceptionDescriber>* d = new std::vector<ExceptionDescriber>();
  return *d;
}

}  // namespace

std::string DescribeException(std::exception_ptr e) {
  for (ExceptionDescriber d : Describers()) {
    std::string s = d(e);
    if (!s.empty()) return s;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return absl::StrCat("std::exception: ", x.what());
  } catch (...) {
    return "an exception of a type that is not std::exception";
  }
}

void AddExceptionDescriber(ExceptionDescriber describer) {
  Describers().push_back(describer);
}

const char* ChoiceKindName(ChoiceKind kind) {
  switch (kind) {
    case ChoiceKind::kSchedule:
      return "schedule";
    case ChoiceKind::kWakeWaiter:
      return "wake-waiter";
    case ChoiceKind::kSpuriousWakeup:
      return "spurious-wakeup";
    case ChoiceKind::kEintr:
      return "eintr";
  }
  return "invalid";
}

std::string OptionText(const Option& o) {
  switch (o.kind) {
    case OptionKind::kThread:
      return absl::StrCat("thread ", o.arg);
    case OptionKind::kAdvanceTime:
      return "advance time";
    case OptionKind::kValue:
      return absl::StrCat("value ", o.arg);
  }
  return "invalid option";
}

const char* FailureKindName(FailureKind kind) {
  switch (kind) {
    case FailureKind::kNone:
      return "none";
    case FailureKind::kAssertion:
      return "assertion";
    case FailureKind::kDeadlock:
      return "deadlock";
    case FailureKind::kLostWakeup:
      return "lost-wakeup";
    case FailureKind::kStepBound:
      return "step-bound";
    case FailureKind::kDataRace:
      return "data-race";
    case FailureKind::kUseAfterFree:
      return "use-after-free";
    case FailureKind::kDoubleFree:
      return "double-free";
    case FailureKind::kLeak:
      return "leak";
    case FailureKind::kReplayDiverged:
      return "replay-diverged";
  }
  return "invalid";
}

FailureKind FailureKindFromName(const std::string& name) {
  for (int k = 0; k <= static_cast<int>(FailureKind::kReplayDiverged); k++) {
    if (name == FailureKindName(static_cast<FailureKind>(k))) {
      return static_cast<FailureKind>(k);
    }
  }
  return FailureKind::kNone;
}

const char* OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kLoad:
      return "load";
    case OpKind::kStore:
      return "store";
    case OpKind::kRmw:
      return "rmw";
    case OpKind::kPlainLoad:
      return "plain-load";
    case OpKind::kPlainStore:
      return "plain-store";
    case OpKind::kFence:
      return "fence";
    case OpKind::kLock:
      return "lock";
    case OpKind::kUnlock:
      return "unlock";
    case OpKind::kSemPost:
      return "sem-post";
    case OpKind::kSemWait:
      return "sem-wait";
    case OpKind::kCondWait:
      return "cond-wait";
    case OpKind::kCondSignal:
      return "cond-signal";
    case OpKind::kEventSet:
      return "event-set";
    case OpKind::kEventReset:
      return "event-reset";
    case OpKind::kEventWait:
      return "event-wait";
    case OpKind::kSpawn:
      return "spawn";
    case OpKind::kJoin:
      return "join";
    case OpKind::kExit:
      return "exit";
    case OpKind::kPoll:
      return "poll";
    case OpKind::kFdSet:
      return "fd-set";
    case OpKind::kFdClear:
      return "fd-clear";
    case OpKind::kSleep:
      return "sleep";
    case OpKind::kYield:
      return "yield";
    case OpKind::kFree:
      return "free";
    case OpKind::kFutexWait:
      return "futex-wait";
    case OpKind::kFutexWake:
      return "futex-wake";
  }
  return "invalid";
}

std::string Execution::Where(core::SrcLoc loc) {
  const char* file = loc.file_name();
  // Paths relative to the project: keep what follows the last "/core/", "/sim/", ...
  for (const char* dir :
       {"/core/", "/sim/", "/scenarios/", "/tools/", "/bench/", "/properties/"}) {
    const char* p = std::strstr(file, dir);
    if (p != nullptr) {
      file = p + 1;
      break;
    }
  }
  return absl::StrFormat("%s:%u (%s)", file, loc.line(), loc.function_name());
}

}  // namespace aiosim::sim

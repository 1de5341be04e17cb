// properties/suites.cc — see suites.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "properties/suites.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/aio/aio.h"

namespace aiosim::properties {
namespace {

using O = OpCode;

std::vector<OpCode> Union(std::initializer_list<std::vector<OpCode>> lists) {
  std::vector<OpCode> out;
  for (const auto& l : lists) {
    for (OpCode c : l) {
      if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    }
  }
  return out;
}

// Per suite, the first operations are the likeliest and the ones shrinking goes to.
const std::vector<OpCode> kBhHome = {O::kBhNew,    O::kSchedule, O::kWait,   O::kPoll,
                                     O::kCancel,   O::kDelete,   O::kOneshot,
                                     O::kScheduleIdle, O::kBhNewNested,
                                     O::kBhNewSelfDeleting};
const std::vector<OpCode> kBhForeign = {O::kSchedule, O::kBhNew,  O::kCancel, O::kOneshot,
                                        O::kScheduleIdle, O::kNotify, O::kPoll,
                                        O::kSchedule, O::kCancel, O::kBhNewSelfDeleting,
                                        O::kScheduleIdle};
// A code listed twice is drawn twice as often (rc::gen::elementOf is uniform): the
// external handlers and drained sections that R10 needs are otherwise rare.
const std::vector<OpCode> kFdHome = {O::kFdAdd,  O::kWait, O::kSet, O::kFdAddExternal,
                                     O::kFdRemove, O::kPoll, O::kFdAddRemover,
                                     O::kDisableExternal, O::kEnableExternal,
                                     O::kFdAddExternal, O::kWait};
const std::vector<OpCode> kFdForeign = {O::kSet, O::kDisableExternal, O::kEnableExternal,
                                        O::kNotify, O::kPoll, O::kSet,
                                        O::kDisableExternal, O::kEnableExternal};
const std::vector<OpCode> kTimerHome = {O::kTimerMod, O::kWait, O::kTimerDel,
                                        O::kTimerAnticipate, O::kPoll, O::kClockToggle};
const std::vector<OpCode> kTimerForeign = {O::kTimerMod, O::kTimerDel, O::kTimerAnticipate,
                                           O::kNotify, O::kPoll};
const std::vector<OpCode> kPoolHome = {O::kSubmit, O::kWait, O::kPoolCancelAsync,
                                       O::kPoolCancel, O::kPoll, O::kBhNewNested,
                                       O::kSchedule, O::kSubmitWaiting, O::kSubmit,
                                       O::kSubmitWaiting};
const std::vector<OpCode> kPoolForeign = {O::kNotify, O::kSchedule, O::kOneshot, O::kPoll};
const std::vector<OpCode> kNotifyHome = {O::kWait, O::kPoll, O::kBhNew, O::kSchedule};
const std::vector<OpCode> kNotifyForeign = {O::kOneshot, O::kNotify, O::kSchedule,
                                            O::kPoll, O::kBhNew};

// Home-only calls that misuse mode gives foreign threads too.
const std::vector<OpCode> kMisuseFd = {O::kFdAdd, O::kFdRemove, O::kFdAddExternal};
const std::vector<OpCode> kMisusePool = {O::kSubmit};  // claim S7

// What QEMU 10.2 no longer has, or allows only in the home thread.
const std::vector<OpCode> kGoneInModern = {O::kFdAddExternal, O::kDisableExternal,
                                           O::kEnableExternal, O::kPoolCancel};
// 10.2's copy-on-write fd handlers: any thread may add and remove them.
const std::vector<OpCode> kForeignFdInModern = {O::kFdAdd, O::kFdRemove};


bool Has(const std::vector<OpCode>& v, OpCode c) {
  return std::find(v.begin(), v.end(), c) != v.end();
}

}  // namespace

const std::vector<Suite>& Suites() {
  static const std::vector<Suite>* suites = new std::vector<Suite>{
      {"bh", "bottom halves: new, schedule, schedule_idle, cancel, delete, oneshot", 2,
       kBhHome, kBhForeign},
      {"fd", "fd handlers and event notifiers: add, update, remove, set, external", 2,
       kFdHome, kFdForeign},
      {"timer", "timers: timer_mod, timer_mod_anticipate, timer_del", 2, kTimerHome,
       kTimerForeign},
      {"pool", "the thread pool: submit, cancel (async and synchronous), completions", 2,
       kPoolHome, kPoolForeign},
      {"notify", "aio_notify and aio_poll: wakeups across threads", 3, kNotifyHome,
       kNotifyForeign},
      {"mixed", "all of the above in one program", 3,
       Union({kBhHome, kFdHome, kTimerHome, kPoolHome, kNotifyHome}),
       Union({kBhForeign, kFdForeign, kTimerForeign, kPoolForeign, kNotifyForeign})},
  };
  return *suites;
}

const Suite* FindSuite(std::string_view id) {
  const std::string want = absl::AsciiStrToLower(std::string(id));
  for (const Suite& s : Suites()) {
    if (s.id == want) return &s;
  }
  return nullptr;
}

std::string SuiteIds() {
  std::vector<std::string> ids;
  for (const Suite& s : Suites()) ids.push_back(s.id);
  return absl::StrJoin(ids, ", ");
}

std::vector<OpCode> AllowedOps(const Suite& suite, bool foreign, Mode mode,
                               uint32_t switches, core::AioGeneration generation) {
  const bool modern = generation == core::AioGeneration::kModern;
  auto keep = [&](const std::vector<OpCode>& from) {
    std::vector<OpCode> out;
    for (OpCode c : from) {
      if (!modern || !Has(kGoneInModern, c)) out.push_back(c);
    }
    return out;
  };
  if (!foreign) return keep(suite.home);
  std::vector<OpCode> out;
  // 4.0: aio_poll is home-only (10.2 asserts it in every aio_poll).
  const bool poll_home_only = modern || (switches & core::AIO_FIX_R9_HOME) != 0;
  for (OpCode c : keep(suite.foreign)) {
    if (c == O::kPoll && poll_home_only) continue;
    out.push_back(c);
  }
  if (modern && Has(suite.home, O::kFdAdd)) out = Union({out, kForeignFdInModern});
  if (mode == Mode::kMisuse) {
    if (Has(suite.home, O::kFdAdd)) out = Union({out, keep(kMisuseFd)});
    if (Has(suite.home, O::kSubmit)) out = Union({out, kMisusePool});
  }
  return out;
}

bool Conforms(const Program& program, const Suite& suite, Mode mode, uint32_t switches,
              core::AioGeneration generation) {
  for (size_t t = 0; t < program.threads.size(); ++t) {
    const auto allowed = AllowedOps(suite, t != 0, mode, switches, generation);
    for (const Op& op : program.threads[t]) {
      if (!Has(allowed, op.code)) return false;
    }
  }
  return true;
}

namespace {

rc::Gen<Op> GenOp(std::vector<OpCode> codes) {
  return rc::gen::apply(
      [](OpCode code, int obj, int arg) {
        Op o;
        o.code = code;
        const OpInfo& i = Info(code);
        switch (i.object) {
          case ObjectKind::kNone: obj = 0; break;
          case ObjectKind::kBh: obj %= kBhs; break;
          case ObjectKind::kNotifier: obj %= kNotifiers; break;
          case ObjectKind::kTimer: obj %= kTimers; break;
          case ObjectKind::kRequest: obj %= kRequests; break;
        }
        o.obj = obj;
        o.arg = i.has_delay ? arg : 0;
        return o;
      },
      // Two objects of each kind: collisions (a schedule and a cancel of one BH) are
      // what races need, and so are two distinct requests (S7, R6). Drawn with
      // gen::element, which is uniform at every size: gen::inRange scales with
      // RapidCheck's size, so small programs would name object 0 almost always.
      rc::gen::elementOf(codes), rc::gen::element(0, 1),
      rc::gen::inRange(0, kTimerDelayMaxMs + 1));
}

}  // namespace

rc::Gen<std::vector<Op>> GenThreadOps(const Suite& suite, bool foreign, Mode mode,
                                      uint32_t switches, core::AioGeneration generation,
                                      int count) {
  return rc::gen::container<std::vector<Op>>(
      static_cast<size_t>(std::clamp(count, 0, kOpsPerThreadMax)),
      GenOp(AllowedOps(suite, foreign, mode, switches, generation)));
}

rc::Gen<Program> GenProgram(const Suite& suite, Mode mode, uint32_t switches,
                            core::AioGeneration generation, int ops_max) {
  const int ops = std::clamp(ops_max, 1, kOpsPerThreadMax);
  auto gen_ops = [ops](std::vector<OpCode> codes) {
    return rc::gen::resize(ops, rc::gen::container<std::vector<Op>>(GenOp(codes)));
  };
  const auto home = gen_ops(AllowedOps(suite, false, mode, switches, generation));
  const auto foreign = gen_ops(AllowedOps(suite, true, mode, switches, generation));
  const int foreign_max = suite.foreign_max;
  return rc::gen::exec([=] {
    Program p;
    p.threads.push_back(*home);
    const int n = *rc::gen::inRange(1, foreign_max + 1);
    for (int i = 0; i < n; ++i) p.threads.push_back(*foreign);
    for (auto& t : p.threads) {
      if (static_cast<int>(t.size()) > ops) t.resize(ops);
    }
    return p;
  });
}

std::string ScenarioIdOf(const Suite& suite) { return "prop-" + suite.id; }

uint32_t FixedSwitches() {
  return core::AIO_FIX_P1 | core::AIO_FIX_R8 | core::AIO_FIX_R9_ACCEPT |
         core::AIO_FIX_R9_HOME | core::AIO_FIX_R10 | core::AIO_FIX_R12 |
         core::AIO_FIX_R18_EXPIRED;
}

std::string FixedSwitchIds() { return "P1,R10,R12,R18-expired,R8,R9-accept,R9-home"; }

const std::vector<scenarios::Scenario>& PropertyScenarios() {
  static const std::vector<scenarios::Scenario>* all = [] {
    auto* out = new std::vector<scenarios::Scenario>;
    std::vector<std::string> reverts, fixes;
    for (const scenarios::Switch& sw : scenarios::Switches()) {
      (sw.revert ? reverts : fixes).push_back(sw.id);
    }
    for (const Suite& suite : Suites()) {
      scenarios::Scenario s;
      s.id = ScenarioIdOf(suite);
      s.title = "property suite " + suite.id + ": " + suite.title;
      s.summary =
          "A generated program (option program=, as 'aiosim prop' and the property tests "
          "print it) run by the property harness and judged by the contract model "
          "(docs/properties.md).";
      s.source = "QEMU-SEMANTICS.md 2.7 (C1-C8); docs/properties.md";
      scenarios::ScenarioOption program;
      program.key = "program";
      program.values = {"-"};
      program.help = "the program, in the compact form of properties/program.h";
      scenarios::ScenarioOption mode;
      mode.key = "mode";
      mode.values = {"documented", "strict", "misuse"};
      mode.help = "the contract mode the execution is judged in";
      s.options = {mode, program};
      s.free_form = {"program"};
      s.validate_free = [](const std::string&, const std::string& v) {
        return Decode(v).status();
      };
      s.reverts = reverts;
      s.fixes = fixes;
      s.exhaust_bound = -1;
      // On modern the harness judges QEMU 10.2 by the same contract (harness.h).
      s.modern_status = scenarios::Scenario::ModernStatus::kRuns;
      s.modern_why.clear();
      // A property scenario declares nothing: a failure is what the model found.
      s.expected = [](const scenarios::Options&) { return sim::FailureKind::kNone; };
      s.make = [](const scenarios::Options& o) {
        HarnessConfig cfg;
        cfg.program = *Decode(scenarios::OptionValue(o, "program"));
        cfg.mode = *ParseMode(scenarios::OptionValue(o, "mode"));
        cfg.switches = scenarios::SwitchBits(o);
        cfg.generation = scenarios::GenerationOf(o);
        return MakeBody(std::move(cfg));
      };
      out->push_back(std::move(s));
    }
    return out;
  }();
  return *all;
}

const scenarios::Scenario* FindPropertyScenario(std::string_view id) {
  const std::string want = absl::AsciiStrToLower(std::string(id));
  for (const scenarios::Scenario& s : PropertyScenarios()) {
    if (s.id == want) return &s;
  }
  return nullptr;
}

}  // namespace aiosim::properties

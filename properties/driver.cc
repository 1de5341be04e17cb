// properties/driver.cc — see driver.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "properties/driver.h"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "rapidcheck.h"
#include "rapidcheck/detail/Configuration.h"
#include "rapidcheck/detail/Property.h"
#include "rapidcheck/detail/TestListener.h"
#include "reports/from_sim.h"
#include "reports/render.h"
#include "sim/token.h"

namespace aiosim::properties {
namespace {

// FNV-1a: a fixed, platform-independent hash of the program's text (no std::hash).
uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

class CountingListener final : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool accepted) override {
    if (accepted) ++shrinks;
  }
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
  int shrinks = 0;
};

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string FailureText(const sim::Failure& f) {
  std::string s = absl::StrCat(sim::FailureKindName(f.kind), ": ", f.message, "\n");
  for (const std::string& d : f.details) absl::StrAppend(&s, "    ", d, "\n");
  return s;
}

bool EnvHas(const char* name, std::string_view key) {
  const char* v = std::getenv(name);
  return v != nullptr && std::string_view(v).find(key) != std::string_view::npos;
}

}  // namespace

absl::StatusOr<scenarios::Options> PropertyOptions(const PropertySettings& settings,
                                                   const Program& program) {
  const scenarios::Scenario* s = FindPropertyScenario(ScenarioIdOf(*settings.suite));
  scenarios::Options given = {{"mode", ModeName(settings.mode)},
                              {"program", Encode(program)},
                              {"revert", settings.revert},
                              {"fix", settings.fix}};
  // A legacy choice is not listed (as for every scenario: legacy tokens unchanged).
  if (settings.generation == core::AioGeneration::kModern) {
    given.emplace_back("generation", "modern");
  }
  return scenarios::ResolveOptions(*s, given);
}

sim::Report ExploreProgram(const PropertySettings& settings, const Program& program,
                           bool minimize, std::shared_ptr<ProbeCounts> probes) {
  absl::StatusOr<scenarios::Options> options = PropertyOptions(settings, program);
  HarnessConfig cfg;
  cfg.program = program;
  cfg.mode = settings.mode;
  cfg.generation = settings.generation;
  cfg.switches = options.ok() ? scenarios::SwitchBits(*options) : 0;
  const sim::Body body = MakeBody(cfg, probes);
  sim::RunConfig rc;
  rc.scenario = ScenarioIdOf(*settings.suite);
  if (options.ok()) rc.options = *options;
  rc.generation = core::AioGenerationName(settings.generation);  // the token's field
  rc.exec = PropertyExecOptions();
  rc.minimize = minimize;
  rc.minimize_executions_max = 5000;
  const uint64_t seed = settings.seed ^ Fnv1a(Encode(program));
  const uint64_t random_budget = settings.strategy == "pct"      ? 0
                                 : settings.strategy == "random" ? settings.executions
                                                                 : (settings.executions + 1) / 2;
  const uint64_t pct_budget = settings.executions - random_budget;
  sim::Report total;
  for (const char* strategy : {"random", "pct"}) {
    rc.strategy = strategy;
    rc.seed = seed % (uint64_t{1} << 53);  // exact in JSON
    rc.executions_max = rc.strategy == "random" ? random_budget : pct_budget;
    if (rc.executions_max == 0) continue;
    sim::Report r = sim::Explore(body, rc);
    total.executions += r.executions;
    total.seconds += r.seconds;
    if (r.found) {
      r.failing_execution += total.executions - r.executions;
      r.executions = total.executions;
      r.seconds = total.seconds;
      return r;
    }
  }
  return total;
}

PropertyResult RunProperty(const PropertySettings& settings) {
  PropertyResult out;
  if (settings.suite == nullptr) {
    out.error = "no suite";
    return out;
  }
  if (settings.strategy != "both" && settings.strategy != "random" &&
      settings.strategy != "pct") {
    out.error = absl::StrCat("--strategy: '", settings.strategy.substr(0, 32),
                             "' is not a strategy (expected both, random or pct)");
    return out;
  }
  const absl::StatusOr<scenarios::Options> resolved = PropertyOptions(settings, Program{{{}}});
  if (!resolved.ok()) {
    out.error = std::string(resolved.status().message());
    return out;
  }
  const uint32_t switches = scenarios::SwitchBits(*resolved);
  const auto t0 = std::chrono::steady_clock::now();
  auto probes = std::make_shared<ProbeCounts>();
  bool have_failure = false;
  Program last_failing;
  const rc::Gen<Program> gen =
      GenProgram(*settings.suite, settings.mode, switches, settings.generation,
                 settings.ops_max);

  auto testable = [&]() {
    const Program p = *gen;
    if (out.stopped) return;  // discard the rest quickly
    const sim::Report r = ExploreProgram(settings, p, /*minimize=*/false, probes);
    out.programs++;
    out.executions += r.executions;
    if (settings.progress && settings.progress(out.programs, out.executions)) {
      out.stopped = true;
    }
    if (!r.found) return;
    last_failing = p;
    if (!have_failure) {
      have_failure = true;
      out.first_failure_executions = out.executions;
      out.first_failure_seconds = Since(t0);
      // Written now, before shrinking: a crash there cannot lose it.
      std::fprintf(stderr,
                   "aiosim prop: %s: first failure (program %d, unshrunk): %s\n"
                   "  replay: aiosim replay %s\n",
                   settings.test_id.c_str(), out.programs,
                   sim::FailureKindName(r.failure.kind), r.token.c_str());
      std::fflush(stderr);
    }
    RC_FAIL(absl::StrCat(r.failure.message, " [", r.failure.where, "]"));
  };

  // RC_PARAMS is read here rather than through rc::detail::configuration(), which
  // prints "Using configuration: seed=<random>" although these runs use their own seed
  // (a reader took the runs for random ones), and which a malformed RC_PARAMS makes
  // throw outside any handler.
  rc::detail::Configuration config;
  config.testParams.seed = settings.seed;
  if (const char* env = std::getenv("RC_PARAMS"); env != nullptr) {
    try {
      config = rc::detail::configFromString(env, config);
    } catch (const std::exception& e) {
      out.error = absl::StrCat("RC_PARAMS: ", e.what());
      return out;
    }
  }
  if (!settings.rc_params.empty()) {
    try {
      config = rc::detail::configFromString(settings.rc_params, config);
    } catch (const std::exception& e) {
      out.error = absl::StrCat("RC_PARAMS: ", e.what());
      return out;
    }
  }
  rc::detail::TestParams params = config.testParams;
  if (!EnvHas("RC_PARAMS", "max_success") && settings.rc_params.find("max_success") == std::string::npos) {
    params.maxSuccess = settings.programs;
  }
  if (!EnvHas("RC_PARAMS", "seed") && settings.rc_params.find("seed") == std::string::npos) {
    params.seed = settings.seed;
  }
  params.maxDiscardRatio = 10;
  rc::detail::TestMetadata metadata;
  metadata.id = settings.test_id;
  metadata.description = settings.test_id;
  CountingListener listener;
  const rc::detail::TestResult result = rc::detail::checkProperty(
      rc::detail::toProperty(testable), metadata, params, listener, config.reproduce);
  out.shrinks = listener.shrinks;
  out.probes = *probes;

  if (result.is<rc::detail::FailureResult>() && have_failure) {
    const auto& failure = result.get<rc::detail::FailureResult>();
    out.failed = true;
    out.program = last_failing;
    rc::detail::Configuration repro = config;
    repro.reproduce.clear();
    repro.reproduce[settings.test_id] = failure.reproduce;
    out.rc_reproduce =
        absl::StrCat("RC_PARAMS=\"", rc::detail::configToMinimalString(repro), "\"");
    // The schedule of the smallest program, minimised.
    out.report = ExploreProgram(settings, out.program, /*minimize=*/true, nullptr);
    out.token = out.report.token;
    const sim::Failure& f = out.report.failing.failure;
    std::string text = absl::StrFormat(
        "property %s failed (suite %s, %smode %s, revert %s, fix %s)\n"
        "after %d programs (%d shrink steps) and %d executions\n\n"
        "minimal program:\n%s\n",
        settings.test_id, settings.suite->id,
        settings.generation == core::AioGeneration::kModern ? "generation modern, " : "",
        ModeName(settings.mode), settings.revert,
        settings.fix, out.programs, out.shrinks, out.executions, Describe(out.program));
    if (out.report.found) {
      absl::StrAppend(&text, FailureText(f), "\nminimal interleaving (per thread):\n",
                      reports::RenderListing(reports::BuildReport(out.report.failing, reports::RunInfo{})), "\n");
    } else {
      absl::StrAppend(&text, "(the minimal program did not fail again when re-explored: ",
                      failure.description, ")\n\n");
    }
    absl::StrAppend(&text, "reproduce:\n  ", out.rc_reproduce, "\n  aiosim replay ",
                    out.token.empty() ? std::string("(no token)") : out.token, "\n");
    out.text = std::move(text);
  } else if (result.is<rc::detail::GaveUpResult>()) {
    out.error = absl::StrCat("RapidCheck gave up: ",
                             result.get<rc::detail::GaveUpResult>().description);
  } else if (result.is<rc::detail::Error>()) {
    out.error = absl::StrCat("RapidCheck: ", result.get<rc::detail::Error>().description);
  } else if (result.is<rc::detail::FailureResult>()) {
    out.error = absl::StrCat("property failed outside the simulator: ",
                             result.get<rc::detail::FailureResult>().description);
  }
  out.seconds = Since(t0);
  return out;
}

absl::StatusOr<uint64_t> ExecutionsFromEnv(uint64_t fallback) {
  const char* v = std::getenv("AIOSIM_EXECUTIONS");
  if (v == nullptr || *v == '\0') return fallback;
  uint64_t n = 0;
  if (!absl::SimpleAtoi(v, &n) || n == 0 || n > 100'000'000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "AIOSIM_EXECUTIONS='", std::string(v).substr(0, 32),
        "' is not a number of executions per program (1 to 100000000)"));
  }
  return n;
}

absl::StatusOr<Mode> ModeFromEnv(Mode fallback) {
  const char* v = std::getenv("AIOSIM_PROP_MODE");
  if (v == nullptr || *v == '\0') return fallback;
  absl::StatusOr<Mode> m = ParseMode(v);
  if (!m.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("AIOSIM_PROP_MODE: ", m.status().message()));
  }
  return m;
}

}  // namespace aiosim::properties

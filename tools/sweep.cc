// tools/sweep.cc — `aiosim sweep` and `aiosim merge`: see sweep.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "tools/sweep.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "reports/model.h"
#include "scenarios/catalog.h"
#include "scenarios/check.h"
#include "sim/aiosim_sim.h"
#include "tools/interrupt.h"
#include "tools/report_dir.h"
#include "tools/sim_args.h"

namespace aiosim::tools {

const char kSweepUsage[] =
    "usage: aiosim sweep <scenario...|--all> --seeds A..B --out FILE [flags]\n"
    "\n"
    "Runs every seed from A to B of every option set of the scenarios (each option\n"
    "value and each switch alone; or the options given with one scenario), each a\n"
    "search of --executions executions, in --jobs processes, and writes one JSON file:\n"
    "the parameters, one result per (scenario, options, seed) with the failure found\n"
    "and its token, and a summary per scenario and option set. No wall-clock figure is\n"
    "in the file: the progress line (executions/s, percentage, ETA) goes to stderr.\n"
    "--shard K/N runs the items i with i % N == K-1, so N machines together cover one\n"
    "sweep exactly; 'aiosim merge' of the N files writes the bytes one unsharded sweep\n"
    "writes. Examples for CI matrices, Kubernetes and GNU parallel: docs/sweeps.md.\n"
    "\n"
    "flags:\n"
    "  --all                every scenario of the catalog\n"
    "  --seeds A..B         the seeds, inclusive (required)\n"
    "  --out FILE           the output ('-' for stdout; required)\n"
    "  --report DIR         also write the summary as a table into DIR:\n"
    "                       sweep.md, .html, .json and .junit.xml (a case per\n"
    "                       scenario and options); default $AIOSIM_REPORT_DIR\n"
    "  --strategy NAME      random (default) or pct\n"
    "  --executions N       executions per seed (default 1000)\n"
    "  --jobs J             worker processes (default 1)\n"
    "  --shard K/N          this machine's part of the sweep (default 1/1)\n"
    "  --minimize           minimise each failure found (slower; off by default)\n"
    "  --pct-depth D        pct: bug depth (default 3)\n"
    "  --option KEY=VALUE, --revert ID,..., --fix ID,...   with one scenario only\n"
    "  --generation G       legacy (default) or modern: the modern option sets of\n"
    "                       the scenarios that run there (--all: only those)\n"
    "  --races[=all], --max-steps N, --time-advances N, --spurious, --eintr\n"
    "  --help               this help\n"
    "\n"
    "exit codes: 0 no failure found, 1 a failure found in some item, 2 bad input,\n"
    "            3 the output could not be written, 4 a worker did not complete,\n"
    "            130 / 143 interrupted (nothing written)\n";

const char kMergeUsage[] =
    "usage: aiosim merge FILE... --out FILE\n"
    "\n"
    "Merges the files of the N shards of one sweep ('aiosim sweep --shard K/N') into\n"
    "the file one unsharded sweep writes, byte for byte. Refuses files of different\n"
    "sweeps, a missing or repeated shard, and results that do not add up.\n"
    "\n"
    "flags:\n"
    "  --out FILE   the output ('-' for stdout; required)\n"
    "  --help       this help\n"
    "\n"
    "exit codes: 0 merged, no failure in the sweep, 1 merged, a failure in the sweep,\n"
    "            2 bad input, 3 the output could not be written\n";

namespace {

using Json = nlohmann::ordered_json;
constexpr std::string_view kFormat = "aiosim-sweep-1";
constexpr uint64_t kJobsMax = 64;
constexpr uint64_t kItemsMax = 100'000'000;

struct Item {
  uint64_t index;
  const scenarios::Scenario* scenario;
  scenarios::Options options;
  uint64_t seed;
};

struct Sweep {
  std::vector<const scenarios::Scenario*> scenarios;
  std::vector<scenarios::Options> given;  // explicit options (one scenario), or empty
  uint64_t seed_first = 0, seed_last = 0;
  std::string strategy = "random";
  uint64_t executions = 1000;
  int pct_depth = 3;
  bool minimize = false;
  sim::ExecOptions exec;
  uint64_t jobs = 1;
  uint64_t shard = 1, shards = 1;
  std::string out;
  std::string report_dir;  // --report DIR or $AIOSIM_REPORT_DIR ("" none)
  core::AioGeneration generation = core::AioGeneration::kLegacy;  // --generation
};

// The sweep's summary (Render's "summary") as a report table: a row and a case per
// scenario and options, ok where the found kinds are what the scenario declares.
reports::Table SweepTable(const Json& summary, const std::string& title) {
  reports::Table t;
  t.title = title;
  t.columns = {"scenario", "options", "seeds", "found", "kinds", "executions",
               "first failure (median executions)"};
  for (const Json& s : summary) {
    std::vector<std::string> kinds;
    for (const auto& [k, v] : s["kinds"].items()) {
      kinds.push_back(absl::StrCat(k, " ", v.get<uint64_t>()));
    }
    std::vector<std::string> opts;
    for (const auto& [k, v] : s["options"].items()) opts.push_back(k + "=" + v.get<std::string>());
    const std::string options = absl::StrJoin(opts, " ");
    const std::string median = s["first_failure_median"].is_null()
                                   ? "-"
                                   : absl::StrCat(s["first_failure_median"].get<uint64_t>());
    t.cells.push_back({s["scenario"].get<std::string>(), options,
                       absl::StrCat(s["seeds"].get<uint64_t>()),
                       absl::StrCat(s["found"].get<uint64_t>()), absl::StrJoin(kinds, ", "),
                       absl::StrCat(s["executions"].get<uint64_t>()), median});
    reports::CaseRow row;
    row.name = absl::StrCat(s["scenario"].get<std::string>(), " ", options);
    row.group = "sweep";
    row.got = absl::StrFormat("%d of %d seeds found a failure (%s)",
                              s["found"].get<uint64_t>(), s["seeds"].get<uint64_t>(),
                              kinds.empty() ? "none" : absl::StrJoin(kinds, ", "));
    row.expected = "a rate, not a verdict";
    row.ok = true;  // a sweep measures; `aiosim check` judges
    row.evidence = absl::StrCat(s["executions"].get<uint64_t>(), " executions");
    t.cases.push_back(std::move(row));
  }
  t.summary = absl::StrFormat("%d scenario/option sets", static_cast<int>(summary.size()));
  return t;
}

// The option sets swept for one scenario: the given ones, else each option value and
// switch alone (OptionVariants); on modern, the scenario's modern cases.
std::vector<scenarios::Options> SweptOptions(const Sweep& s, const scenarios::Scenario& sc) {
  if (!s.given.empty()) return s.given;
  if (s.generation == core::AioGeneration::kLegacy) return scenarios::OptionVariants(sc);
  std::vector<scenarios::Options> out;
  absl::StatusOr<std::vector<scenarios::CheckCase>> cases =
      scenarios::CheckCases({sc.id}, s.generation, nullptr);
  if (cases.ok()) {
    for (const scenarios::CheckCase& c : *cases) out.push_back(c.options);
  }
  return out;
}

Json OptionsJson(const scenarios::Options& options) {
  Json j = Json::object();
  for (const auto& [k, v] : options) j[k] = v;
  return j;
}

Json ExecJsonValue(const sim::ExecOptions& e) {
  return Json{
      {"max_steps", e.max_steps},       {"time_advances", e.time_advances_max},
      {"races", e.race_detection},      {"known_races_reported", e.report_known_races},
      {"spurious", e.spurious_wakeups}, {"eintr", e.inject_eintr}};
}

// Everything that identifies the sweep (the shard is not part of it).
Json Header(const Sweep& s, uint64_t items) {
  Json scenarios = Json::array();
  for (const scenarios::Scenario* sc : s.scenarios) scenarios.push_back(sc->id);
  Json given = Json::array();
  for (const scenarios::Options& o : s.given) given.push_back(OptionsJson(o));
  return Json{{"format", kFormat},
              {"scenarios", scenarios},
              {"options", given},
              {"seeds", Json{{"first", s.seed_first}, {"last", s.seed_last}}},
              {"strategy", s.strategy},
              {"pct_depth", s.strategy == "pct" ? Json(s.pct_depth) : Json(nullptr)},
              {"executions_per_seed", s.executions},
              {"minimize", s.minimize},
              {"exec", ExecJsonValue(s.exec)},
              {"items", items}};
}

std::vector<Item> Items(const Sweep& s) {
  std::vector<Item> items;
  uint64_t index = 0;
  for (const scenarios::Scenario* sc : s.scenarios) {
    const std::vector<scenarios::Options> variants =
        SweptOptions(s, *sc);
    for (const scenarios::Options& options : variants) {
      for (uint64_t seed = s.seed_first;; seed++) {
        items.push_back(Item{index++, sc, options, seed});
        if (seed == s.seed_last) break;
      }
    }
  }
  return items;
}

Json RunItem(const Sweep& s, const Item& item) {
  sim::RunConfig c;
  c.scenario = item.scenario->id;
  c.generation = scenarios::GenerationNameOf(item.options);
  c.options = item.options;
  c.strategy = s.strategy;
  c.seed = item.seed;
  c.executions_max = s.executions;
  c.pct_depth = s.pct_depth;
  c.exec = s.exec;
  c.minimize = s.minimize;
  c.stop = [] { return StopSignal() != 0; };
  const sim::Report r = sim::Explore(item.scenario->make(item.options), c);
  Json j{{"item", item.index},
         {"scenario", item.scenario->id},
         {"options", OptionsJson(item.options)},
         {"seed", item.seed},
         {"found", r.found},
         {"kind", sim::FailureKindName(r.failure.kind)},
         {"executions", r.found ? r.failing_execution + 1 : r.executions}};
  if (r.found) {
    j["where"] = r.failure.where;
    j["preemptions"] = r.failing.preemptions;
    j["token"] = r.token;
  }
  j["_complete"] = !r.interrupted;  // internal: stripped before writing
  return j;
}

// The file's bytes: header (+ shard), results sorted by item, summary from them.
std::string Render(Json header, const std::vector<Json>& results_in, uint64_t shard,
                   uint64_t shards) {
  std::vector<Json> results = results_in;
  std::sort(results.begin(), results.end(), [](const Json& a, const Json& b) {
    return a["item"].get<uint64_t>() < b["item"].get<uint64_t>();
  });
  if (shards > 1) header["shard"] = Json{{"index", shard}, {"count", shards}};
  header["results"] = results;
  // Summary per (scenario, options), in item order.
  Json summary = Json::array();
  std::map<std::string, size_t> at;
  for (const Json& r : results) {
    const std::string key = r["scenario"].get<std::string>() + r["options"].dump();
    auto [it, fresh] = at.emplace(key, summary.size());
    if (fresh) {
      summary.push_back(Json{{"scenario", r["scenario"]},
                             {"options", r["options"]},
                             {"seeds", 0},
                             {"found", 0},
                             {"kinds", Json::object()},
                             {"executions", 0},
                             {"_firsts", Json::array()}});
    }
    Json& s = summary[it->second];
    s["seeds"] = s["seeds"].get<uint64_t>() + 1;
    s["executions"] = s["executions"].get<uint64_t>() + r["executions"].get<uint64_t>();
    if (r["found"].get<bool>()) {
      s["found"] = s["found"].get<uint64_t>() + 1;
      const std::string kind = r["kind"].get<std::string>();
      s["kinds"][kind] = s["kinds"].value(kind, uint64_t{0}) + 1;
      s["_firsts"].push_back(r["executions"]);
    }
  }
  for (Json& s : summary) {
    std::vector<uint64_t> firsts = s["_firsts"].get<std::vector<uint64_t>>();
    s.erase("_firsts");
    std::sort(firsts.begin(), firsts.end());
    s["first_failure_median"] =
        firsts.empty() ? Json(nullptr) : Json(firsts[(firsts.size() - 1) / 2]);
  }
  header["summary"] = summary;
  return header.dump(1) + "\n";
}

bool WriteOut(const std::string& path, const std::string& bytes, std::string* error) {
  if (path == "-") {
    WriteStdout(bytes);
    if (!FlushStdout()) {
      *error = "cannot write to stdout (" + StdoutError() + ")";
      return false;
    }
    return true;
  }
  const std::string tmp = path + ".tmp";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  if (!out || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    *error = absl::StrFormat("cannot write '%s'", Shown(path));
    return false;
  }
  return true;
}

absl::Status ParseSeeds(std::string_view text, uint64_t* first, uint64_t* last) {
  std::vector<std::string> parts =
      absl::StrSplit(absl::string_view(text.data(), text.size()), "..");
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], first) ||
      !absl::SimpleAtoi(parts[1], last) || *first > *last) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--seeds: '%s' is not a range A..B of seeds with A <= B (e.g. 1..1000)",
        Shown(text)));
  }
  return absl::OkStatus();
}

absl::Status ParseShard(std::string_view text, uint64_t* k, uint64_t* n) {
  std::vector<std::string> parts =
      absl::StrSplit(absl::string_view(text.data(), text.size()), '/');
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], k) ||
      !absl::SimpleAtoi(parts[1], n) || *n == 0 || *k == 0 || *k > *n || *n > 100000) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--shard: '%s' is not K/N with 1 <= K <= N (e.g. 3/8)", Shown(text)));
  }
  return absl::OkStatus();
}

constexpr FlagSpec kSweepFlags[] = {
    {"all", ""},
    {"seeds", "A..B"},
    {"out", "FILE"},
    {"strategy", "NAME"},
    {"executions", "N"},
    {"jobs", "J"},
    {"shard", "K/N"},
    {"minimize", ""},
    {"pct-depth", "D"},
    {"option", "KEY=VALUE", true},
    {"revert", "ID,..."},
    {"fix", "ID,..."},
    {"generation", "G"},
    {"races", "", false, true},
    {"max-steps", "N"},
    {"time-advances", "N"},
    {"spurious", ""},
    {"eintr", ""},
    {"report", "DIR"},
};

absl::StatusOr<Sweep> ParseSweep(Args args, bool* help) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs("sweep", args, kSweepFlags);
  if (!parsed.ok()) return parsed.status();
  *help = parsed->help;
  Sweep s;
  if (*help) return s;
  bool all = false, seeds = false;
  std::vector<ParsedFlag> scenario_flags;
  for (const ParsedFlag& f : parsed->flags) {
    absl::StatusOr<uint64_t> n = uint64_t{0};
    if (f.name == "all") {
      all = true;
    } else if (f.name == "seeds") {
      if (absl::Status st = ParseSeeds(f.value, &s.seed_first, &s.seed_last); !st.ok())
        return st;
      seeds = true;
    } else if (f.name == "out") {
      s.out = std::string(f.value);
    } else if (f.name == "report") {
      // ReportDirOf, below
    } else if (f.name == "strategy") {
      if (f.value != "random" && f.value != "pct") {
        return absl::InvalidArgumentError(
            absl::StrFormat("--strategy: '%s' (expected random or pct; a sweep varies "
                            "seeds, which dfs has "
                            "none of)",
                            Shown(f.value)));
      }
      s.strategy = std::string(f.value);
    } else if (f.name == "executions") {
      if ((n = ParseUint(f.name, f.value, 1, uint64_t{1} << 40)).ok()) s.executions = *n;
    } else if (f.name == "jobs") {
      if ((n = ParseUint(f.name, f.value, 1, kJobsMax)).ok()) s.jobs = *n;
    } else if (f.name == "shard") {
      if (absl::Status st = ParseShard(f.value, &s.shard, &s.shards); !st.ok()) return st;
    } else if (f.name == "minimize") {
      s.minimize = true;
    } else if (f.name == "pct-depth") {
      if ((n = ParseUint(f.name, f.value, 1, 64)).ok())
        s.pct_depth = static_cast<int>(*n);
    } else if (f.name == "option" || f.name == "revert" || f.name == "fix") {
      scenario_flags.push_back(f);
    } else if (f.name == "generation") {
      absl::StatusOr<core::AioGeneration> g = ParseGenerationFlag(f.value);
      if (!g.ok()) return g.status();
      s.generation = *g;
      scenario_flags.push_back(f);
    } else {
      absl::StatusOr<bool> exec = ApplyExecFlag(f, &s.exec);
      if (!exec.ok()) return exec.status();
    }
    if (!n.ok()) return n.status();
  }
  if (!seeds)
    return absl::InvalidArgumentError("--seeds A..B is required (e.g. --seeds 1..1000)");
  if (s.out.empty())
    return absl::InvalidArgumentError("--out FILE is required ('-': stdout)");
  if (all == !parsed->positional.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "name the scenarios or give --all, not both and not neither (scenarios: %s)",
        ScenarioIds()));
  }
  if (all) {
    for (const scenarios::Scenario& sc : scenarios::Catalog()) {
      // --all --generation modern: the scenarios that run there ('aiosim list' says
      // why the others do not).
      if (s.generation == core::AioGeneration::kModern &&
          sc.modern_status != scenarios::Scenario::ModernStatus::kRuns) {
        continue;
      }
      s.scenarios.push_back(&sc);
    }
  } else {
    for (std::string_view id : parsed->positional) {
      const scenarios::Scenario* sc = scenarios::FindScenario(id);
      if (sc == nullptr) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "unknown scenario '%s' (expected one of: %s)", Shown(id), ScenarioIds()));
      }
      if (std::find(s.scenarios.begin(), s.scenarios.end(), sc) == s.scenarios.end()) {
        s.scenarios.push_back(sc);
      }
    }
  }
  // --generation alone applies to every scenario; with --option, --revert or --fix it
  // is one more of the one scenario's options.
  const bool only_generation =
      std::all_of(scenario_flags.begin(), scenario_flags.end(),
                  [](const ParsedFlag& f) { return f.name == "generation"; });
  if (only_generation && s.generation == core::AioGeneration::kModern) {
    for (const scenarios::Scenario* sc : s.scenarios) {
      if (sc->modern_status != scenarios::Scenario::ModernStatus::kRuns) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "scenario %s does not run on the modern generation: %s", sc->id,
            sc->modern_why));
      }
    }
  }
  if (only_generation) scenario_flags.clear();
  if (!scenario_flags.empty()) {
    if (s.scenarios.size() != 1) {
      return absl::InvalidArgumentError(
          "--option, --revert and --fix need exactly one scenario (without them every "
          "option value is swept)");
    }
    const std::vector<std::string_view> one = {s.scenarios[0]->id};
    absl::StatusOr<ScenarioChoice> choice = ChooseScenario(one, scenario_flags);
    if (!choice.ok()) return choice.status();
    s.given.push_back(choice->options);
  }
  uint64_t per_scenario_items = 0;
  for (const scenarios::Scenario* sc : s.scenarios) {
    per_scenario_items += SweptOptions(s, *sc).size();
  }
  const uint64_t span = s.seed_last - s.seed_first;
  if (span >= kItemsMax || per_scenario_items * (span + 1) > kItemsMax) {
    return absl::InvalidArgumentError(
        absl::StrFormat("the sweep has more than %d items; split its seeds", kItemsMax));
  }
  absl::StatusOr<std::string> report_dir = ReportDirOf(parsed->flags);
  if (!report_dir.ok()) return report_dir.status();
  s.report_dir = *std::move(report_dir);
  return s;
}

void Progress(uint64_t done, uint64_t total, uint64_t executions, double seconds) {
  if (!isatty(2) || seconds <= 0) return;
  const double rate = executions / seconds;
  const double eta = done > 0 ? seconds * (total - done) / done : 0;
  absl::FPrintF(stderr,
                "\raiosim sweep: %d/%d items (%.0f%%), %.0f executions/s, ETA %dm%02ds ",
                done, total, 100.0 * done / total, rate, static_cast<int>(eta) / 60,
                static_cast<int>(eta) % 60);
}

double Now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int SweepMain(Args args) {
  bool help = false;
  absl::StatusOr<Sweep> parsed = ParseSweep(args, &help);
  if (!parsed.ok()) {
    absl::FPrintF(stderr, "aiosim sweep: %s\n", OneLine(parsed.status()));
    return kExitBadInput;
  }
  if (help) {
    WriteStdout(kSweepUsage);
    return kExitOk;
  }
  const Sweep& s = *parsed;
  const std::vector<Item> all = Items(s);
  std::vector<Item> mine;
  for (const Item& item : all) {
    if (item.index % s.shards == s.shard - 1) mine.push_back(item);
  }
  CatchStopSignals();
  const double start = Now();
  uint64_t executions = 0;
  std::vector<Json> results;
  bool worker_failed = false;
  if (s.jobs <= 1) {
    for (const Item& item : mine) {
      Json r = RunItem(s, item);
      if (!r["_complete"].get<bool>()) break;
      r.erase("_complete");
      executions += r["executions"].get<uint64_t>();
      results.push_back(std::move(r));
      Progress(results.size(), mine.size(), executions, Now() - start);
    }
  } else {
    // Workers: worker w runs the shard's items w, w + J, ...; one result per line on
    // its pipe. Forked before any simulation runs.
    std::vector<int> fds;
    std::vector<pid_t> pids;
    std::fflush(nullptr);
    for (uint64_t w = 0; w < s.jobs; w++) {
      int p[2];
      if (pipe(p) != 0) {
        absl::FPrintF(stderr, "aiosim sweep: cannot create a pipe for worker %d\n", w);
        return kExitWorker;
      }
      const pid_t pid = fork();
      if (pid == 0) {
        close(p[0]);
        FILE* out = fdopen(p[1], "w");
        for (size_t k = w; k < mine.size(); k += s.jobs) {
          Json r = RunItem(s, mine[k]);
          if (!r["_complete"].get<bool>()) break;
          r.erase("_complete");
          const std::string line = r.dump() + "\n";
          if (std::fwrite(line.data(), 1, line.size(), out) != line.size() ||
              std::fflush(out) != 0) {
            _exit(kExitWorker);
          }
        }
        std::fclose(out);
        _exit(0);
      }
      close(p[1]);
      if (pid < 0) {
        absl::FPrintF(stderr, "aiosim sweep: cannot start worker %d\n", w);
        return kExitWorker;
      }
      fds.push_back(p[0]);
      pids.push_back(pid);
    }
    std::vector<std::string> partial(fds.size());
    size_t open = fds.size();
    while (open > 0) {
      std::vector<pollfd> pfds;
      for (int fd : fds) pfds.push_back(pollfd{fd, POLLIN, 0});
      if (poll(pfds.data(), pfds.size(), -1) < 0) continue;  // EINTR: a signal, go on
      for (size_t w = 0; w < fds.size(); w++) {
        if (fds[w] < 0 || (pfds[w].revents & (POLLIN | POLLHUP)) == 0) continue;
        char buf[1 << 16];
        const ssize_t n = read(fds[w], buf, sizeof buf);
        if (n <= 0) {
          close(fds[w]);
          fds[w] = -1;
          open--;
          continue;
        }
        partial[w].append(buf, static_cast<size_t>(n));
        for (size_t nl; (nl = partial[w].find('\n')) != std::string::npos;) {
          Json r = Json::parse(partial[w].substr(0, nl), nullptr, false);
          partial[w].erase(0, nl + 1);
          if (r.is_discarded()) {
            worker_failed = true;
            continue;
          }
          executions += r["executions"].get<uint64_t>();
          results.push_back(std::move(r));
          Progress(results.size(), mine.size(), executions, Now() - start);
        }
      }
    }
    for (pid_t pid : pids) {
      int status = 0;
      while (waitpid(pid, &status, 0) < 0) {
      }
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) worker_failed = true;
    }
  }
  if (isatty(2)) absl::FPrintF(stderr, "\n");
  const double seconds = Now() - start;
  absl::FPrintF(stderr, "aiosim sweep: %d of %d items%s, %d executions, %.1f s, %.0f/s\n",
                results.size(), mine.size(),
                s.shards > 1 ? absl::StrFormat(" (shard %d/%d)", s.shard, s.shards) : "",
                executions, seconds, seconds > 0 ? executions / seconds : 0.0);
  if (const int signal = StopSignal(); signal != 0) {
    absl::FPrintF(stderr, "aiosim sweep: interrupted by %s; nothing written to %s\n",
                  SignalName(signal), Shown(s.out));
    ReRaise(signal);
    return 128 + signal;
  }
  if (worker_failed || results.size() != mine.size()) {
    absl::FPrintF(stderr,
                  "aiosim sweep: a worker did not complete its items (%d of %d results); "
                  "nothing written\n",
                  results.size(), mine.size());
    return kExitWorker;
  }
  std::string error;
  const std::string rendered = Render(Header(s, all.size()), results, s.shard, s.shards);
  if (!WriteOut(s.out, rendered, &error)) {
    absl::FPrintF(stderr, "aiosim sweep: %s\n", error);
    return kExitOutput;
  }
  if (!s.report_dir.empty()) {
    absl::StatusOr<std::string> written = WriteTableFiles(
        s.report_dir, "sweep",
        SweepTable(Json::parse(rendered)["summary"],
                   absl::StrFormat("aiosim sweep: seeds %d..%d, %s", s.seed_first,
                                   s.seed_last, s.strategy)));
    if (!written.ok()) {
      absl::FPrintF(stderr, "aiosim sweep: %s\n", OneLine(written.status()));
      return kExitOutput;
    }
  }
  bool found = false;
  for (const Json& r : results) found |= r["found"].get<bool>();
  return found ? kExitFailure : kExitOk;
}

int MergeMain(Args args) {
  constexpr FlagSpec kMergeFlags[] = {{"out", "FILE"}};
  absl::StatusOr<ParsedArgs> parsed = ParseArgs("merge", args, kMergeFlags);
  if (!parsed.ok()) {
    absl::FPrintF(stderr, "aiosim merge: %s\n", OneLine(parsed.status()));
    return kExitBadInput;
  }
  if (parsed->help) {
    WriteStdout(kMergeUsage);
    return kExitOk;
  }
  std::string out;
  for (const ParsedFlag& f : parsed->flags) out = std::string(f.value);
  auto bad = [](const std::string& message) {
    absl::FPrintF(stderr, "aiosim merge: %s\n", message);
    return kExitBadInput;
  };
  if (out.empty()) return bad("--out FILE is required ('-': stdout)");
  if (parsed->positional.empty())
    return bad("no input files (the shards' outputs of 'aiosim sweep')");
  Json header;
  std::vector<Json> results;
  std::vector<bool> seen_shard;
  uint64_t shards = 0;
  for (std::string_view path : parsed->positional) {
    std::ifstream in{std::string(path)};
    if (!in) return bad(absl::StrFormat("cannot read '%s'", Shown(path)));
    std::stringstream text;
    text << in.rdbuf();
    Json j = Json::parse(text.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("format", "") != kFormat) {
      return bad(
          absl::StrFormat("'%s' is not an aiosim sweep file (%s)", Shown(path), kFormat));
    }
    const Json shard = j.value("shard", Json{{"index", 1}, {"count", 1}});
    const uint64_t k = shard.value("index", uint64_t{0}),
                   n = shard.value("count", uint64_t{0});
    Json h = j;
    for (const char* key : {"shard", "results", "summary"}) h.erase(key);
    if (header.is_null()) {
      header = h;
      shards = n;
      seen_shard.assign(n + 1, false);
    } else if (h != header || n != shards) {
      return bad(absl::StrFormat(
          "'%s' is a shard of another sweep (its parameters differ)", Shown(path)));
    }
    if (k < 1 || k > shards || seen_shard[k]) {
      return bad(
          absl::StrFormat("'%s': shard %d/%d %s", Shown(path), k, n,
                          k >= 1 && k <= shards ? "given twice" : "is out of range"));
    }
    seen_shard[k] = true;
    for (const Json& r : j.value("results", Json::array())) {
      if (!r.contains("item") || r["item"].get<uint64_t>() % shards != k - 1) {
        return bad(absl::StrFormat("'%s': a result does not belong to shard %d/%d",
                                   Shown(path), k, n));
      }
      results.push_back(r);
    }
  }
  for (uint64_t k = 1; k <= shards; k++) {
    if (!seen_shard[k]) return bad(absl::StrFormat("shard %d/%d is missing", k, shards));
  }
  if (results.size() != header.value("items", uint64_t{0})) {
    return bad(absl::StrFormat("the shards hold %d results; the sweep has %d items",
                               results.size(), header.value("items", uint64_t{0})));
  }
  std::string error;
  if (!WriteOut(out, Render(header, results, 1, 1), &error)) {
    absl::FPrintF(stderr, "aiosim merge: %s\n", error);
    return kExitOutput;
  }
  bool found = false;
  for (const Json& r : results) found |= r.value("found", false);
  return found ? kExitFailure : kExitOk;
}

}  // namespace aiosim::tools

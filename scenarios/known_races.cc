// scenarios/known_races.cc — see known_races.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "scenarios/known_races.h"

#include <cstdio>
#include <cstdlib>

namespace aiosim::scenarios {

extern const char kKnownRacesText[];

const sim::KnownRaces& LegacyKnownRaces() {
  static const sim::KnownRaces* known = [] {
    absl::StatusOr<sim::KnownRaces> parsed = sim::KnownRaces::Parse(kKnownRacesText);
    if (!parsed.ok()) {  // a broken docs file is a build defect: say so, once
      std::fprintf(stderr, "aiosim: docs/tsan-known-races.txt: %s\n",
                   std::string(parsed.status().message()).c_str());
      std::abort();
    }
    auto* k = new sim::KnownRaces(*std::move(parsed));
    sim::SetKnownRaces(k);
    return k;
  }();
  return *known;
}

}  // namespace aiosim::scenarios

// reports/names.cc — the printable names of model.h's enums.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "reports/model.h"

namespace aiosim::reports {

const char* HighlightName(Highlight h) {
  switch (h) {
    case Highlight::kNone: return "none";
    case Highlight::kFailure: return "failure";
    case Highlight::kRaceFirst: return "race-first";
    case Highlight::kRaceSecond: return "race-second";
    case Highlight::kWakeupConsumed: return "wakeup-consumed";
    case Highlight::kWaiterSleeps: return "waiter-sleeps";
  }
  return "invalid";
}

}  // namespace aiosim::reports

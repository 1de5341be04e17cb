// sim/strategy.cc — the Strategy interface's defaults (strategy.h).
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/strategy.h"

#include "absl/strings/str_cat.h"

namespace aiosim::sim {

Strategy::Reproducer Strategy::ReproduceCurrent(uint64_t index) const {
  Reproducer r;
  r.options = {{"execution", absl::StrCat(index)}};
  r.direct = false;
  return r;
}

}  // namespace aiosim::sim

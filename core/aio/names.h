// core/aio/names.h — not QEMU: names of the core's objects in the simulator's reports
// ("ctx \"main\"->notify_me", "bh \"work\"->scheduled", "req#2->state").
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Each generation names an object's fields where it creates the object (its
// aio_context_new, bh_alloc, thread_pool_submit_aio, ...), through the platform's
// SetName (core/platform/sync.h). Nothing happens unless NamesWanted(): on the host
// never, in the simulator only while a trace is recorded, so the names cost nothing
// in a search or a benchmark. A name never enters a decision or the trace hash.
#ifndef AIOSIM_CORE_AIO_NAMES_H_
#define AIOSIM_CORE_AIO_NAMES_H_

#include <string>
#include <string_view>
#include <utility>

#include "core/platform/sync.h"

namespace aiosim::core {

// Names fields of one owner: FieldNamer(owner)(ctx->notify_me, "notify_me")(...).
class FieldNamer {
 public:
  explicit FieldNamer(std::string owner) : owner_(std::move(owner)) {}
  template <class O>
  const FieldNamer& operator()(const O& object, std::string_view field) const {
    std::string name = owner_;
    name += "->";
    name += field;
    object.SetName(name.c_str());
    return *this;
  }
  const std::string& owner() const { return owner_; }

 private:
  std::string owner_;
};

// `kind "name"`, or `kind` alone when the name is empty.
inline std::string OwnerName(std::string_view kind, std::string_view name) {
  std::string s(kind);
  if (!name.empty()) {
    s += " \"";
    s += name;
    s += '"';
  }
  return s;
}

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_AIO_NAMES_H_

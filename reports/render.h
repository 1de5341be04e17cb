// reports/render.h — the renderers of reports/model.h, each a pure function of its
// input (no I/O, no clock): the same report renders to the same bytes.
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_REPORTS_RENDER_H_
#define AIOSIM_REPORTS_RENDER_H_

#include <cstdint>
#include <string>

#include "reports/model.h"

namespace aiosim::reports {

// A terminal summary: verdict, message, the folded per-thread listing with the
// highlighted rows marked, the sleep state, the reproduce line last.
std::string RenderText(const Report& r);
// The per-thread listing alone (what `aiosim run` and `replay` print as the schedule).
std::string RenderListing(const Report& r);
// "958.000 ms".
std::string TimeMs(int64_t ns);
// Markdown (GitHub-flavoured): the same as a document with a table of steps.
std::string RenderMarkdown(const Report& r);
// One standalone HTML file: inline CSS and SVG, no script needed, no network; a
// swimlane per thread, virtual time on the axis, preemptions marked, highlighted
// steps, the watched state beside the lanes and on hover (SVG <title>).
std::string RenderHtml(const Report& r);
// JSON, schema docs/report-schema.json ("schema": 1).
std::string RenderJson(const Report& r);

std::string RenderMarkdown(const Table& t);
std::string RenderHtml(const Table& t);
std::string RenderJson(const Table& t);
// JUnit XML: one <testsuite> of one <testcase> per case, <failure> for a failed one.
std::string RenderJUnit(const Table& t);

}  // namespace aiosim::reports

#endif  // AIOSIM_REPORTS_RENDER_H_

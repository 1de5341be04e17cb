// reports/junit.cc — RenderJUnit (render.h): the JUnit XML that CI systems read (the
// de-facto schema of Ant's junit task and Jenkins: testsuites > testsuite > testcase,
// a <failure> child for a failed case).
// SPDX-License-Identifier: GPL-2.0-or-later
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "reports/escape.h"
#include "reports/model.h"
#include "reports/render.h"

namespace aiosim::reports {

std::string RenderJUnit(const Table& t) {
  int failures = 0;
  double seconds = 0;
  for (const CaseRow& c : t.cases) {
    failures += c.ok ? 0 : 1;
    seconds += c.seconds;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  absl::StrAppendFormat(&out,
                        "<testsuites name=\"aiosim\" tests=\"%d\" failures=\"%d\" "
                        "errors=\"0\" time=\"%.3f\">\n",
                        static_cast<int>(t.cases.size()), failures, seconds);
  absl::StrAppendFormat(&out,
                        "  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
                        "skipped=\"0\" time=\"%.3f\">\n",
                        EscapeXml(t.title), static_cast<int>(t.cases.size()), failures,
                        seconds);
  for (const CaseRow& c : t.cases) {
    absl::StrAppendFormat(&out, "    <testcase classname=\"%s\" name=\"%s\" time=\"%.3f\"",
                          EscapeXml(c.group), EscapeXml(c.name), c.seconds);
    const std::string out_text =
        absl::StrCat("expected: ", c.expected, "\ngot: ", c.got,
                     c.evidence.empty() ? "" : "\nevidence: " + c.evidence);
    if (c.ok) {
      absl::StrAppendFormat(&out, ">\n      <system-out>%s</system-out>\n    </testcase>\n",
                            EscapeXml(out_text));
    } else {
      absl::StrAppendFormat(&out,
                            ">\n      <failure message=\"%s\" type=\"%s\">%s</failure>\n"
                            "      <system-out>%s</system-out>\n    </testcase>\n",
                            EscapeXml(absl::StrCat("expected ", c.expected, ", got ", c.got)),
                            EscapeXml(c.got), EscapeXml(c.failure), EscapeXml(out_text));
    }
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace aiosim::reports

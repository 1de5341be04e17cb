// reports/escape.h — the one place text is escaped for HTML and XML.
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_REPORTS_ESCAPE_H_
#define AIOSIM_REPORTS_ESCAPE_H_

#include <string>
#include <string_view>

namespace aiosim::reports {

// &, <, >, " and ' as entities; control characters other than \t \n \r dropped (XML
// 1.0 cannot hold them); valid for element text and attribute values alike.
std::string EscapeXml(std::string_view s);
// A JSON string literal, quotes included.
std::string JsonString(std::string_view s);

}  // namespace aiosim::reports

#endif  // AIOSIM_REPORTS_ESCAPE_H_

// reports/tests/escape_test.cc — EscapeXml and JsonString (escape.h).
// SPDX-License-Identifier: GPL-2.0-or-later
#include "reports/escape.h"

#include "gtest/gtest.h"

namespace aiosim::reports {
namespace {

TEST(EscapeTest, XmlEscapesEveryMarkupCharacterAndDropsControls) {
  EXPECT_EQ(EscapeXml("bh \"a<b\" & 'c'>"), "bh &quot;a&lt;b&quot; &amp; &#39;c&#39;&gt;");
  EXPECT_EQ(EscapeXml(std::string("a\x01" "b\tc\n", 6)), "ab\tc\n");
  EXPECT_EQ(EscapeXml("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;");
}

TEST(EscapeTest, JsonStringsQuoteBackslashesAndControls) {
  EXPECT_EQ(JsonString("ctx \"main\"->notify_me"), "\"ctx \\\"main\\\"->notify_me\"");
  EXPECT_EQ(JsonString("a\\b\nc\x02"), "\"a\\\\b\\nc\\u0002\"");
}

}  // namespace
}  // namespace aiosim::reports

// tools/report_dir.cc — see report_dir.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "tools/report_dir.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "reports/render.h"

namespace aiosim::tools {

namespace {

// mkdir -p.
absl::Status MakeDirs(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("--report: an empty directory name");
  std::string path;
  size_t i = 0;
  while (i <= dir.size()) {
    size_t j = dir.find('/', i);
    if (j == std::string::npos) j = dir.size();
    path = dir.substr(0, j);
    i = j + 1;
    if (path.empty()) continue;
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return absl::FailedPreconditionError(
            absl::StrFormat("--report: %s exists and is not a directory", path));
      }
      continue;
    }
    if (::mkdir(path.c_str(), 0777) != 0 && errno != EEXIST) {
      return absl::FailedPreconditionError(
          absl::StrFormat("--report: cannot create %s: %s", path, std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

absl::Status WriteFiles(const std::string& dir,
                        const std::vector<std::pair<std::string, std::string>>& files) {
  if (absl::Status s = MakeDirs(dir); !s.ok()) return s;
  for (const auto& [name, body] : files) {
    const std::string path = absl::StrCat(dir, "/", name);
    // Written beside, then renamed: a reader never sees half a report.
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << body;
      out.flush();
      if (!out) {
        return absl::FailedPreconditionError(
            absl::StrFormat("--report: cannot write %s", tmp));
      }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "--report: cannot rename %s to %s: %s", tmp, path, std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReportDirOf(const std::vector<ParsedFlag>& flags) {
  const ParsedFlag* given = nullptr;
  for (const ParsedFlag& f : flags) {
    if (f.name == "report") given = &f;
  }
  if (given != nullptr) {
    if (given->value.empty()) {
      return absl::InvalidArgumentError("--report: expected a directory (got '')");
    }
    return std::string(given->value);
  }
  const char* env = std::getenv(kReportDirEnv);
  return env != nullptr ? std::string(env) : std::string();
}

absl::StatusOr<std::string> WriteReportFiles(const std::string& dir,
                                             const std::string& stem,
                                             const reports::Report& report) {
  absl::Status s = WriteFiles(dir, {{stem + ".txt", reports::RenderText(report)},
                                    {stem + ".md", reports::RenderMarkdown(report)},
                                    {stem + ".html", reports::RenderHtml(report)},
                                    {stem + ".json", reports::RenderJson(report)}});
  if (!s.ok()) return s;
  return absl::StrFormat("%s/%s.html (and .txt, .md, .json)", dir, stem);
}

absl::StatusOr<std::string> WriteTableFiles(const std::string& dir, const std::string& stem,
                                            const reports::Table& table) {
  absl::Status s = WriteFiles(dir, {{stem + ".md", reports::RenderMarkdown(table)},
                                    {stem + ".html", reports::RenderHtml(table)},
                                    {stem + ".json", reports::RenderJson(table)},
                                    {stem + ".junit.xml", reports::RenderJUnit(table)}});
  if (!s.ok()) return s;
  return absl::StrFormat("%s/%s.html (and .md, .json, .junit.xml)", dir, stem);
}

std::string ScheduleListing(const sim::ExecResult& r) {
  return reports::RenderListing(reports::BuildReport(r, reports::RunInfo{}));
}

}  // namespace aiosim::tools

// tools/tests/cli_util.h — running the built `aiosim` (AIOSIM_CLI_PATH) from a test:
// to completion (Cli, CliWith) or in the background (Child), and reading what it
// printed (JSON fields, the reproduce line, the trace hash, the token file).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Every process gets its own environment: TMPDIR is the test's own directory and
// XDG_RUNTIME_DIR is unset (unless a test sets either), so default token files of
// tests running in parallel never meet and never land in the user's runtime
// directory. SIGINT and SIGTERM have their default action in the child even if the
// test runner ignores them (a background job of a shell). No shell is involved.
//
// Every wait is for an event (output, exit), with a bound; none sleeps a fixed time.
// Threading: call from the test's thread.
#ifndef AIOSIM_TOOLS_TESTS_CLI_UTIL_H_
#define AIOSIM_TOOLS_TESTS_CLI_UTIL_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace aiosim::tools::testing {

// How long a test waits for a process before it fails (a loaded 2-core machine
// under a sanitizer is slow).
inline constexpr std::chrono::seconds kWaitMax{120};

struct Result {
  int exit = -1;  // the exit status, or 128 + the signal that killed the process
  std::string out;
  std::string err;
  std::vector<std::string> OutLines() const;
  std::vector<std::string> ErrLines() const;
};

struct CliOptions {
  // NAME=VALUE to set, or NAME alone to unset; applied after the defaults.
  std::vector<std::string> env;
  // If non-empty, stdout goes to this file (e.g. /dev/full) instead of Result::out.
  std::string stdout_path;
  // How long Wait waits for the process to end.
  std::chrono::seconds wait_max = kWaitMax;
};

// A directory of this test's own (created), used as TMPDIR.
std::string TestDir();

// Runs `aiosim ARGS` to completion (at most kWaitMax, then it is killed and the test
// fails).
Result Cli(const std::vector<std::string>& args);
Result CliWith(const std::vector<std::string>& args, const CliOptions& options);

// `aiosim ARGS` running in the background. The destructor kills it (SIGKILL) if it
// is still running and reaps it.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args, const CliOptions& options = {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  // Reads stderr until it has a line that starts with `prefix`; false after kWaitMax
  // or if the process ended first.
  bool WaitForStderrLine(const std::string& prefix);
  // True while the process has not ended (it may have been killed by a signal).
  bool Running();
  // Sends `sig` (kill(2)).
  void Signal(int sig);
  // Reads stdout and stderr until both end (the process closed them: it is ending) or
  // `timeout_ms` passed; true if they ended. Blocks in poll(2), on the output itself.
  bool OutputEndsWithin(int timeout_ms);
  // Reads stdout and stderr to their end and reaps the process (at most
  // CliOptions::wait_max; then the test fails and the process is killed).
  Result Wait();

 private:
  bool ReadSome(int timeout_ms);  // one poll over both pipes; false at EOF of both

  std::chrono::seconds wait_max_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  Result result_;
};

// A strict JSON syntax check (RFC 8259), enough to say "this parses".
bool IsJson(const std::string& s);
// The value of `"key": "..."` in one of our JSON objects ("" if absent).
std::string JsonField(const std::string& json, const std::string& key);
// The token of the last line if it is "reproduce: aiosim replay <token>", else "".
std::string TokenOf(const Result& run);
// The hash printed on a "trace hash: 0x..." line ("" if none).
std::string TraceHashOf(const Result& r);
// The path on the header's "  token file:  PATH (rewritten ...)" line ("" if none).
std::string TokenFileOf(const Result& run);
// The file's content, "" if it cannot be read.
std::string ReadFile(const std::string& path);

}  // namespace aiosim::tools::testing

#endif  // AIOSIM_TOOLS_TESTS_CLI_UTIL_H_

// tools/tests/cli_util.cc — see cli_util.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "tools/tests/cli_util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

extern char** environ;

namespace aiosim::tools::testing {

namespace {

using Clock = std::chrono::steady_clock;

// The child's environment: ours, TMPDIR = the test's directory, XDG_RUNTIME_DIR
// unset, then `overrides` (NAME=VALUE sets, NAME unsets).
std::vector<std::string> ChildEnv(const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; e++) env.emplace_back(*e);
  auto set = [&env](const std::string& entry) {
    const std::string name = entry.substr(0, entry.find('='));
    std::erase_if(env, [&](const std::string& e) { return e.starts_with(name + "="); });
    if (entry.find('=') != std::string::npos) env.push_back(entry);
  };
  set("TMPDIR=" + TestDir());
  set("XDG_RUNTIME_DIR");
  for (const std::string& entry : overrides) set(entry);
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int RemainingMs(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

}  // namespace

std::vector<std::string> Result::OutLines() const {
  return absl::StrSplit(out, '\n', absl::SkipEmpty());
}

std::vector<std::string> Result::ErrLines() const {
  return absl::StrSplit(err, '\n', absl::SkipEmpty());
}

std::string TestDir() {
  const ::testing::TestInfo* info =
      ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  const std::string dir = ::testing::TempDir() + "aiosim_cli_" + name;
  mkdir(dir.c_str(), 0755);
  return dir;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Child::Child(const std::vector<std::string>& args, const CliOptions& options)
    : wait_max_(options.wait_max) {
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  if (pipe2(err, O_CLOEXEC) != 0 ||
      (options.stdout_path.empty() && pipe2(out, O_CLOEXEC) != 0)) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (options.stdout_path.empty()) {
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  } else {
    posix_spawn_file_actions_addopen(&actions, 1, options.stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, none;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> argv = {AIOSIM_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> env = ChildEnv(options.env);
  const int rc = posix_spawn(&pid_, AIOSIM_CLI_PATH, &actions, &attr,
                             Pointers(argv).data(), Pointers(env).data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(err[1]);
  err_fd_ = err[0];
  if (out[1] >= 0) close(out[1]);
  out_fd_ = out[0];
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn: " << std::strerror(rc);
    pid_ = -1;
    reaped_ = true;
  }
}

Child::~Child() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

bool Child::ReadSome(int timeout_ms) {
  pollfd fds[2];
  int n = 0;
  for (const int fd : {out_fd_, err_fd_}) {
    if (fd >= 0) fds[n++] = pollfd{fd, POLLIN, 0};
  }
  if (n == 0) return false;
  if (poll(fds, n, timeout_ms) <= 0) return true;
  for (int i = 0; i < n; i++) {
    if (fds[i].revents == 0) continue;
    char buf[4096];
    const ssize_t got = read(fds[i].fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    const bool is_out = fds[i].fd == out_fd_;
    if (got <= 0) {
      close(fds[i].fd);
      (is_out ? out_fd_ : err_fd_) = -1;
    } else {
      (is_out ? result_.out : result_.err).append(buf, static_cast<size_t>(got));
    }
  }
  return true;
}

bool Child::WaitForStderrLine(const std::string& prefix) {
  const Clock::time_point deadline = Clock::now() + kWaitMax;
  while (true) {
    const std::string& err = result_.err;
    for (size_t at = err.find(prefix); at != std::string::npos;
         at = err.find(prefix, at + 1)) {
      if (at == 0 || err[at - 1] == '\n') return true;
    }
    if (Clock::now() >= deadline || !ReadSome(RemainingMs(deadline))) return false;
  }
}

bool Child::Running() {
  if (reaped_) return false;
  if (waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
  return !reaped_;
}

void Child::Signal(int sig) {
  if (pid_ > 0 && !reaped_) kill(pid_, sig);
}

bool Child::OutputEndsWithin(int timeout_ms) {
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline && ReadSome(RemainingMs(deadline))) {
  }
  return out_fd_ < 0 && err_fd_ < 0;
}

Result Child::Wait() {
  const Clock::time_point deadline = Clock::now() + wait_max_;
  while (Clock::now() < deadline && ReadSome(RemainingMs(deadline))) {
  }
  if (!reaped_ && pid_ > 0) {
    if (out_fd_ >= 0 || err_fd_ >= 0) {  // out of time: still writing
      ADD_FAILURE() << "aiosim did not end within " << wait_max_.count() << " s";
      kill(pid_, SIGKILL);
    }
    waitpid(pid_, &status_, 0);
    reaped_ = true;
  }
  Result r = result_;
  r.exit = WIFEXITED(status_)     ? WEXITSTATUS(status_)
           : WIFSIGNALED(status_) ? 128 + WTERMSIG(status_)
                                  : -1;
  return r;
}

Result Cli(const std::vector<std::string>& args) { return CliWith(args, {}); }

Result CliWith(const std::vector<std::string>& args, const CliOptions& options) {
  Child child(args, options);
  return child.Wait();
}

std::string JsonField(const std::string& json, const std::string& key) {
  const std::string open = "\"" + key + "\": \"";
  const size_t at = json.find(open);
  if (at == std::string::npos) return "";
  const size_t start = at + open.size();
  return json.substr(start, json.find('"', start) - start);
}

namespace {

// A strict JSON syntax check (RFC 8259).
class JsonChecker {
 public:
  explicit JsonChecker(const std::string& s) : s_(s) {}
  bool Valid() {
    Space();
    if (!Value()) return false;
    Space();
    return i_ == s_.size();
  }

 private:
  void Space() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) {
      i_++;
    }
  }
  bool Eat(char c) {
    Space();
    if (i_ < s_.size() && s_[i_] == c) {
      i_++;
      return true;
    }
    return false;
  }
  bool Word(const char* w) {
    const std::string word(w);
    if (s_.compare(i_, word.size(), word) != 0) return false;
    i_ += word.size();
    return true;
  }
  bool String() {
    if (!Eat('"')) return false;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (static_cast<unsigned char>(s_[i_]) < 0x20) return false;
      if (s_[i_] == '\\') {
        if (++i_ >= s_.size()) return false;
        if (s_[i_] == 'u') {
          for (int k = 0; k < 4; k++) {
            if (++i_ >= s_.size() || !isxdigit(static_cast<unsigned char>(s_[i_]))) {
              return false;
            }
          }
        } else if (std::string("\"\\/bfnrt").find(s_[i_]) == std::string::npos) {
          return false;
        }
      }
      i_++;
    }
    return Eat('"');
  }
  bool Number() {
    const size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') i_++;
    while (i_ < s_.size() &&
           (isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
            s_[i_] == 'e' || s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-')) {
      i_++;
    }
    return i_ > start && isdigit(static_cast<unsigned char>(s_[i_ - 1]));
  }
  bool Value() {
    Space();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') {
      i_++;
      if (Eat('}')) return true;
      do {
        if (!String() || !Eat(':') || !Value()) return false;
      } while (Eat(','));
      return Eat('}');
    }
    if (c == '[') {
      i_++;
      if (Eat(']')) return true;
      do {
        if (!Value()) return false;
      } while (Eat(','));
      return Eat(']');
    }
    if (c == '"') return String();
    if (c == 't') return Word("true");
    if (c == 'f') return Word("false");
    if (c == 'n') return Word("null");
    return Number();
  }

  const std::string& s_;
  size_t i_ = 0;
};

}  // namespace

bool IsJson(const std::string& s) { return JsonChecker(s).Valid(); }

std::string TokenOf(const Result& run) {
  const std::vector<std::string> lines = run.OutLines();
  if (lines.empty()) return "";
  const std::string prefix = "reproduce: aiosim replay ";
  return absl::StartsWith(lines.back(), prefix) ? lines.back().substr(prefix.size()) : "";
}

std::string TraceHashOf(const Result& r) {
  for (const std::string& line : r.OutLines()) {
    if (absl::StartsWith(line, "trace hash: ")) return line.substr(12, 18);
  }
  return "";
}

std::string TokenFileOf(const Result& run) {
  const std::string prefix = "  token file:  ";
  for (const std::string& line : run.OutLines()) {
    if (!absl::StartsWith(line, prefix)) continue;
    const std::string rest = line.substr(prefix.size());
    return rest.substr(0, rest.find(" ("));
  }
  return "";
}

}  // namespace aiosim::tools::testing

// sim/tests/token_file_test.cc — the per-run token file (sim/token_file.h): unique
// names, the lock that refuses a second run, what a --token-file path may be, the
// content after Write and WriteFinal (in place, same inode), and the default
// directory.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/token_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "sim/token.h"

namespace aiosim::sim {
namespace {

// A directory of this test's own (ctest runs tests in parallel processes).
std::string TestDir() {
  const ::testing::TestInfo* info =
      ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string dir = absl::StrFormat("%stoken_file_test_%d_%s", testing::TempDir(),
                                          getpid(), info->name());
  mkdir(dir.c_str(), 0755);
  return dir;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TokenFor(uint64_t seed, size_t choices = 0) {
  TokenData data;
  data.scenario = "R4";
  data.generation = "legacy";
  data.strategy = "random";
  data.seed = seed;
  for (size_t i = 0; i < choices; i++) {
    data.deviations.push_back(
        TokenDeviation{1, i, 0, i, static_cast<uint32_t>(i & 0xFFFF), 0, 0, 2});
  }
  return EncodeToken(data);
}

// The token the file at `path` holds, or nullopt.
std::optional<uint64_t> SeedIn(const std::string& path) {
  absl::StatusOr<TokenData> data = ReadTokenFile(path);
  if (!data.ok()) return std::nullopt;
  return data->seed;
}

ino_t Inode(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// Sets an environment variable for the scope (nullptr: unset).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(TokenFileRunTest, CreateUniqueMakesDistinctPrivateFilesNamedAsDocumented) {
  const std::string dir = TestDir();
  std::set<std::string> paths;
  for (int i = 0; i < 3; i++) {
    absl::StatusOr<std::unique_ptr<TokenFile>> file =
        TokenFile::CreateUnique(dir, "R4/../x");
    ASSERT_TRUE(file.ok()) << file.status();
    const std::string& path = (*file)->path();
    EXPECT_TRUE(absl::StartsWith(path, dir + "/aiosim-R4_.._x-")) << path;
    EXPECT_TRUE(absl::EndsWith(path, ".token")) << path;
    EXPECT_EQ(path.size(), (dir + "/aiosim-R4_.._x-XXXXXX.token").size()) << path;
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(static_cast<size_t>(st.st_size), TokenFile::kMapSize);
    paths.insert(path);
  }
  EXPECT_EQ(paths.size(), 3u);

  absl::StatusOr<std::unique_ptr<TokenFile>> missing =
      TokenFile::CreateUnique(dir + "/no-such-dir", "R4");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "no-such-dir"))
      << missing.status();
}

TEST(TokenFileRunTest, WriteAndWriteFinalLeaveExactlyOneToken) {
  const std::string path = TestDir() + "/t.token";
  absl::StatusOr<std::unique_ptr<TokenFile>> file = TokenFile::OpenForRun(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_FALSE(ReadTokenFile(path).ok()) << "padding only before the first Write";
  const ino_t inode = Inode(path);

  (*file)->Write(TokenFor(123456789));
  EXPECT_EQ(SeedIn(path), 123456789u);
  (*file)->Write(TokenFor(7));  // shorter: the old tail must not survive
  EXPECT_EQ(SeedIn(path), 7u);

  // A final token longer than the mapping, then short ones again.
  const std::string long_token = TokenFor(99, 5000);
  ASSERT_GT(long_token.size(), TokenFile::kMapSize);
  ASSERT_TRUE((*file)->WriteFinal(long_token).ok());
  EXPECT_EQ(Slurp(path), long_token + "\n");
  (*file)->Write(TokenFor(8));
  EXPECT_EQ(SeedIn(path), 8u);
  ASSERT_TRUE((*file)->WriteFinal(TokenFor(9)).ok());
  EXPECT_EQ(SeedIn(path), 9u);
  EXPECT_EQ(Slurp(path).size(), TokenFile::kMapSize);

  EXPECT_FALSE((*file)->WriteFinal("a\nb").ok());
  EXPECT_FALSE((*file)->WriteFinal("").ok());
  EXPECT_EQ(SeedIn(path), 9u);
  EXPECT_EQ(Inode(path), inode) << "written in place, never replaced";
  file->reset();
  EXPECT_EQ(SeedIn(path), 9u) << "the token outlives the TokenFile";
}

TEST(TokenFileRunTest, ASecondOpenOfAPathInUseIsRefusedAndChangesNothing) {
  const std::string path = TestDir() + "/shared.token";
  absl::StatusOr<std::unique_ptr<TokenFile>> first = TokenFile::OpenForRun(path);
  ASSERT_TRUE(first.ok()) << first.status();
  (*first)->Write(TokenFor(1));

  absl::StatusOr<std::unique_ptr<TokenFile>> second = TokenFile::OpenForRun(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(std::string(second.status().message()),
            "token file '" + path +
                "': in use by another aiosim run (it holds the file's lock)");
  EXPECT_EQ(SeedIn(path), 1u);

  // Another process (as a second `aiosim run` is) is refused too.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(TokenFile::OpenForRun(path).ok() ? 0 : 7);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7) << status;

  // The first still owns a working file; after it is gone, the path is free again.
  (*first)->Write(TokenFor(2));
  ASSERT_TRUE((*first)->WriteFinal(TokenFor(3)).ok());
  EXPECT_FALSE(TokenFile::OpenForRun(path).ok()) << "WriteFinal keeps the lock";
  EXPECT_EQ(SeedIn(path), 3u);
  first->reset();
  absl::StatusOr<std::unique_ptr<TokenFile>> again = TokenFile::OpenForRun(path);
  EXPECT_TRUE(again.ok()) << again.status();
}

TEST(TokenFileRunTest, OpenForRunRefusesWhatIsNotARegularFileOrAToken) {
  const std::string dir = TestDir();
  const std::string target = dir + "/target.txt";
  { std::ofstream(target) << "precious\n"; }
  const std::string link = dir + "/link.token";
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  const std::string fifo = dir + "/fifo.token";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  const std::string subdir = dir + "/subdir";
  ASSERT_EQ(mkdir(subdir.c_str(), 0755), 0);

  struct Case {
    std::string path;
    std::string what;
  };
  for (const Case& c :
       {Case{"/dev/null", "is a character device"},
        Case{"/dev/full", "is a character device"}, Case{link, "is a symbolic link"},
        Case{fifo, "is a FIFO"}, Case{subdir, "is a directory"},
        Case{target, "holds something other than a token"}}) {
    absl::StatusOr<std::unique_ptr<TokenFile>> file = TokenFile::OpenForRun(c.path);
    ASSERT_FALSE(file.ok()) << c.path;
    const std::string message(file.status().message());
    EXPECT_TRUE(absl::StartsWith(message, "token file '" + c.path + "': " + c.what))
        << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
  EXPECT_EQ(Slurp(target), "precious\n") << "neither the link nor its target touched";
  struct stat st;
  ASSERT_EQ(lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_EQ(stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));

  // Accepted: a new path, an empty or blank file, an old token file.
  const std::string empty = dir + "/empty.token";
  { std::ofstream(empty) << ""; }
  const std::string blank = dir + "/blank.token";
  { std::ofstream(blank) << "\n\n  \n"; }
  const std::string old = dir + "/old.token";
  { std::ofstream(old) << "  " << TokenFor(5) << "\n"; }
  for (const std::string& path : {dir + "/new.token", empty, blank, old}) {
    absl::StatusOr<std::unique_ptr<TokenFile>> file = TokenFile::OpenForRun(path);
    EXPECT_TRUE(file.ok()) << path << ": " << file.status();
  }
}

TEST(TokenFileRunTest, DefaultTokenDirFollowsXdgRuntimeDirThenTmpdir) {
  const std::string dir = TestDir();
  {
    ScopedEnv xdg("XDG_RUNTIME_DIR", (dir + "/").c_str());
    absl::StatusOr<std::string> got = DefaultTokenDir();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, dir + "/aiosim");
    struct stat st;
    ASSERT_EQ(lstat(got->c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_TRUE(DefaultTokenDir().ok()) << "an existing subdirectory is reused";
  }
  {
    ScopedEnv xdg("XDG_RUNTIME_DIR", "/nonexistent-xdg");
    absl::StatusOr<std::string> got = DefaultTokenDir();
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(absl::StartsWith(got.status().message(),
                                 "XDG_RUNTIME_DIR is '/nonexistent-xdg': "))
        << got.status();
  }
  ScopedEnv no_xdg("XDG_RUNTIME_DIR", nullptr);
  {
    ScopedEnv tmpdir("TMPDIR", dir.c_str());
    absl::StatusOr<std::string> got = DefaultTokenDir();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, dir);
  }
  {
    ScopedEnv tmpdir("TMPDIR", "/nonexistent");
    absl::StatusOr<std::string> got = DefaultTokenDir();
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(std::string(got.status().message()),
              "TMPDIR is '/nonexistent': not a usable directory for token files (No "
              "such file or directory)");
  }
  {
    ScopedEnv tmpdir("TMPDIR", nullptr);
    absl::StatusOr<std::string> got = DefaultTokenDir();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, "/tmp");
  }
}

}  // namespace
}  // namespace aiosim::sim

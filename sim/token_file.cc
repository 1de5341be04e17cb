// sim/token_file.cc — see token_file.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/token_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "sim/token.h"

namespace aiosim::sim {

namespace {

// A path in a one-line message: quoted, control characters as '?'.
std::string Quoted(std::string_view path) {
  std::string out = "'";
  for (const char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    out += byte < 0x20 || byte == 0x7f ? '?' : c;
  }
  return out + "'";
}

absl::Status PathError(absl::StatusCode code, std::string_view path,
                       std::string_view what) {
  return absl::Status(code, absl::StrFormat("token file %s: %s", Quoted(path), what));
}

absl::Status ErrnoError(std::string_view path, std::string_view what, int err) {
  return PathError(absl::ErrnoToStatusCode(err), path,
                   absl::StrFormat("%s (%s)", what, std::strerror(err)));
}

// What a non-regular file is, for "token file 'X': is a FIFO (...)".
std::string_view TypeName(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

absl::Status NotRegular(std::string_view path, mode_t mode) {
  return PathError(absl::StatusCode::kInvalidArgument, path,
                   absl::StrFormat("is %s, refusing to use it (expected a regular file "
                                   "or a path that does not exist)",
                                   TypeName(mode)));
}

bool IsSpace(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

// OK if the file holds nothing of value: empty, whitespace only, or a token file.
absl::Status CheckContent(std::string_view path, int fd, off_t size) {
  char head[TokenFile::kMapSize];
  ssize_t n;
  do {
    n = pread(fd, head, sizeof head, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoError(path, "cannot read", errno);
  const std::string_view text(head, static_cast<size_t>(n));
  const bool blank = std::all_of(text.begin(), text.end(), IsSpace);
  if ((blank && size <= static_cast<off_t>(sizeof head)) || LooksLikeToken(text)) {
    return absl::OkStatus();
  }
  return PathError(absl::StatusCode::kFailedPrecondition, path,
                   "holds something other than a token, refusing to overwrite it "
                   "(expected a token file, an empty file or a path that does not "
                   "exist)");
}

}  // namespace

TokenFile::TokenFile(std::string path, int fd, char* map)
    : path_(std::move(path)), fd_(fd), map_(map), file_size_(kMapSize) {}

TokenFile::~TokenFile() {
  munmap(map_, kMapSize);
  close(fd_);
}

absl::StatusOr<std::unique_ptr<TokenFile>> TokenFile::Adopt(std::string path, int fd,
                                                            bool check_content) {
  auto fail = [&](absl::Status status) {
    close(fd);
    return status;
  };
  // The lock first: a file another run holds is neither read nor resized.
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      return fail(PathError(absl::StatusCode::kFailedPrecondition, path,
                            "in use by another aiosim run (it holds the file's lock)"));
    }
    return fail(ErrnoError(path, "cannot lock", errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) return fail(ErrnoError(path, "cannot stat", errno));
  if (!S_ISREG(st.st_mode)) return fail(NotRegular(path, st.st_mode));
  if (check_content) {
    if (absl::Status s = CheckContent(path, fd, st.st_size); !s.ok()) return fail(s);
  }
  // Safe to resize: no other run has it mapped (they would hold the lock).
  if (ftruncate(fd, kMapSize) != 0) return fail(ErrnoError(path, "cannot resize", errno));
  void* map = mmap(nullptr, kMapSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return fail(ErrnoError(path, "cannot map", errno));
  std::memset(map, '\n', kMapSize);
  return std::unique_ptr<TokenFile>(
      new TokenFile(std::move(path), fd, static_cast<char*>(map)));
}

absl::StatusOr<std::unique_ptr<TokenFile>> TokenFile::CreateUnique(
    const std::string& dir, std::string_view scenario) {
  std::string name;
  for (const char c : scenario) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    name += ok ? c : '_';
  }
  constexpr std::string_view kSuffix = ".token";
  std::string pattern = absl::StrFormat("%s/aiosim-%s-XXXXXX%s", dir, name, kSuffix);
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  const int fd = mkostemps(buffer.data(), static_cast<int>(kSuffix.size()), O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return absl::Status(absl::ErrnoToStatusCode(err),
                        absl::StrFormat("cannot create a token file in %s (%s)",
                                        Quoted(dir), std::strerror(err)));
  }
  return Adopt(std::string(buffer.data()), fd, /*check_content=*/false);
}

absl::StatusOr<std::unique_ptr<TokenFile>> TokenFile::OpenForRun(
    const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError("token file '': empty path (expected a file path)");
  }
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) return NotRegular(path, st.st_mode);
  } else if (errno != ENOENT) {
    return ErrnoError(path, "cannot stat", errno);
  }
  // O_NOFOLLOW: a symlink made after the lstat is refused (ELOOP), not followed.
  // O_NONBLOCK: a FIFO made after the lstat does not block the open; fstat refuses it.
  const int fd =
      open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == ELOOP) return NotRegular(path, S_IFLNK);
    return ErrnoError(path, "cannot open", errno);
  }
  if (fstat(fd, &st) != 0) {
    const absl::Status status = ErrnoError(path, "cannot stat", errno);
    close(fd);
    return status;
  }
  if (!S_ISREG(st.st_mode)) {  // swapped after the lstat
    close(fd);
    return NotRegular(path, st.st_mode);
  }
  return Adopt(path, fd, /*check_content=*/true);
}

void TokenFile::Write(std::string_view token) {
  const size_t size = token.size();
  if (size + 1 > kMapSize) {
    std::string content(token);
    content += '\n';
    if (!WriteLong(content)) {
      std::memset(map_, '\n', kMapSize);  // no stale token: "empty" rather than wrong
      used_ = 0;
    }
    return;
  }
  if (file_size_ != kMapSize) {  // after a long token: back to the mapping alone
    if (ftruncate(fd_, kMapSize) == 0) file_size_ = kMapSize;
  }
  std::memcpy(map_, token.data(), size);
  map_[size] = '\n';
  if (used_ > size + 1) std::memset(map_ + size + 1, '\n', used_ - size - 1);
  used_ = size + 1;
}

bool TokenFile::WriteLong(std::string_view content) {
  for (size_t done = 0; done < content.size();) {
    const ssize_t n = pwrite(fd_, content.data() + done, content.size() - done,
                             static_cast<off_t>(done));
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n == 0 || errno != EINTR) {
      return false;
    }
  }
  // Never below the mapping (kMapSize < content.size() here): no SIGBUS for us.
  if (file_size_ > content.size() && ftruncate(fd_, content.size()) != 0) return false;
  file_size_ = content.size();
  used_ = kMapSize;
  return true;
}

absl::Status TokenFile::WriteFinal(std::string_view token) {
  if (token.empty() || token.find_first_of("\r\n") != std::string_view::npos) {
    return PathError(absl::StatusCode::kInvalidArgument, path_,
                     "refusing to write an empty or multi-line token");
  }
  if (token.size() + 1 <= kMapSize) {
    Write(token);
    if (file_size_ != kMapSize) {
      return PathError(absl::StatusCode::kInternal, path_, "cannot resize");
    }
    if (msync(map_, kMapSize, MS_SYNC) != 0) {
      return ErrnoError(path_, "cannot sync", errno);
    }
    return absl::OkStatus();
  }
  std::string content(token);
  content += '\n';
  if (!WriteLong(content)) {
    const int err = errno;
    std::memset(map_, '\n', kMapSize);
    used_ = 0;
    return ErrnoError(path_, "cannot write", err);
  }
  if (fdatasync(fd_) != 0) return ErrnoError(path_, "cannot sync", errno);
  return absl::OkStatus();
}

absl::StatusOr<std::string> DefaultTokenDir() {
  auto env = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    std::string dir = value != nullptr ? value : "";
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return dir;
  };
  // Checks `dir`; `origin` says where it came from, for the message.
  auto usable = [](const std::string& dir, const std::string& origin) -> absl::Status {
    struct stat st;
    int err = 0;
    if (stat(dir.c_str(), &st) != 0) {
      err = errno;
    } else if (!S_ISDIR(st.st_mode)) {
      err = ENOTDIR;
    } else if (faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
      err = errno;
    }
    if (err == 0) return absl::OkStatus();
    return absl::Status(absl::ErrnoToStatusCode(err),
                        absl::StrFormat("%s: not a usable directory for token files (%s)",
                                        origin, std::strerror(err)));
  };
  if (const std::string xdg = env("XDG_RUNTIME_DIR"); !xdg.empty()) {
    const std::string origin = absl::StrFormat("XDG_RUNTIME_DIR is %s", Quoted(xdg));
    if (absl::Status s = usable(xdg, origin); !s.ok()) return s;
    const std::string dir = (xdg == "/" ? "" : xdg) + "/aiosim";
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      const int err = errno;
      return absl::Status(absl::ErrnoToStatusCode(err),
                          absl::StrFormat("%s: cannot create %s for token files (%s)",
                                          origin, Quoted(dir), std::strerror(err)));
    }
    struct stat st;
    if (lstat(dir.c_str(), &st) == 0 &&
        (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: %s is %s, expected a directory of this user's", origin, Quoted(dir),
          S_ISDIR(st.st_mode) ? "another user's directory" : TypeName(st.st_mode)));
    }
    if (absl::Status s = usable(dir, origin + ", subdirectory " + Quoted(dir)); !s.ok()) {
      return s;
    }
    return dir;
  }
  if (const std::string tmpdir = env("TMPDIR"); !tmpdir.empty()) {
    const std::string origin = absl::StrFormat("TMPDIR is %s", Quoted(tmpdir));
    if (absl::Status s = usable(tmpdir, origin); !s.ok()) return s;
    return tmpdir;
  }
  const std::string origin =
      "the default directory '/tmp' (neither XDG_RUNTIME_DIR nor TMPDIR is set)";
  if (absl::Status s = usable("/tmp", origin); !s.ok()) return s;
  return std::string("/tmp");
}

}  // namespace aiosim::sim

// sim/token_file.h — the per-run token file: before each execution the explorer
// writes the token that reproduces it, so a crash of the process keeps the token of
// the execution that crashed it; at the end, the failing (minimised) token.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A TokenFile owns one open, locked, memory-mapped regular file. Two runs never share
// one: the default is a fresh file per run (CreateUnique), and a path the user names
// (OpenForRun) is locked with flock(LOCK_EX | LOCK_NB) for the TokenFile's lifetime,
// so a second run with the same path is refused instead of truncating a file that
// the first run has mapped (which killed it with SIGBUS). The lock is advisory: it
// binds aiosim runs, not other programs.
//
// Layout (invariant while a TokenFile exists): the file is `<token>\n` followed by
// '\n' padding, at least kMapSize bytes long; the first kMapSize bytes are a
// MAP_SHARED mapping, so Write is a memcpy and the content is in the page cache the
// moment Write returns: it survives a crash (SIGSEGV, abort, SIGKILL) of the process.
// Before the first Write the file holds padding only (ReadTokenFile says "empty").
// The file is never truncated below kMapSize while it is open, and never renamed or
// replaced: its inode (and its lock, links and mode) stays the one that was opened.
// A process killed in the middle of a Write (a few hundred bytes) or of the system
// losing power before WriteFinal's sync can leave a mix of two tokens; the token's
// CRC makes ReadTokenFile reject it rather than replay a wrong execution.
//
// Threading: a TokenFile is thread-compatible (one owner; Write is not atomic).
// Determinism: the file's name (CreateUnique) is random; nothing in a simulation
// depends on it.
#ifndef AIOSIM_SIM_TOKEN_FILE_H_
#define AIOSIM_SIM_TOKEN_FILE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace aiosim::sim {

class TokenFile {
 public:
  static constexpr size_t kMapSize = 4096;  // the mapped prefix of the file

  // A new file "<dir>/aiosim-<scenario>-XXXXXX.token", where XXXXXX is mkostemps'
  // six random characters; mode 0600, created with O_EXCL (never an existing file or
  // a symlink's target). Characters of `scenario` outside [A-Za-z0-9._-] become '_'.
  // Errors (one line, naming the directory): the directory is missing, not writable,
  // full.
  static absl::StatusOr<std::unique_ptr<TokenFile>> CreateUnique(
      const std::string& dir, std::string_view scenario);

  // The file at `path`, for a user's --token-file PATH. Accepted: a path that does
  // not exist (created, mode 0644), or a regular file that is empty, holds only
  // whitespace, or starts (after whitespace) with a token (aiosim<N>:...): a previous
  // token file. Refused, with one line naming the path and saying what is there: a
  // symbolic link (never followed: lstat, then open with O_NOFOLLOW), a directory, a
  // FIFO (opened with O_NONBLOCK, so never a hang), a socket, a device (/dev/null,
  // /dev/full), any other regular file (its content is not ours to destroy), and a
  // file locked by another TokenFile ("in use by another aiosim run"). The type is
  // checked again with fstat on the opened descriptor, so a path swapped between
  // lstat and open is refused too. The lock is taken before the file is resized, so a
  // refused run changes nothing.
  // REQUIRES: !path.empty().
  static absl::StatusOr<std::unique_ptr<TokenFile>> OpenForRun(const std::string& path);

  ~TokenFile();  // unmaps and closes the file (releasing the lock); never removes it
  TokenFile(const TokenFile&) = delete;
  TokenFile& operator=(const TokenFile&) = delete;

  // The path as given (OpenForRun) or as created (CreateUnique).
  const std::string& path() const { return path_; }

  // Replaces the content with `token` (one line). Cheap when the token fits in the
  // mapping (a memcpy, no system call): the explorer calls it before every execution.
  // A longer token is written with pwrite. Never fails loudly: a write error leaves
  // the file without a valid token (ReadTokenFile reports it), never another
  // execution's token.
  // REQUIRES: `token` is non-empty and has no '\r' or '\n'.
  void Write(std::string_view token);

  // Replaces the content with `token`, in place, and syncs it to disk (msync or
  // fdatasync): the failing, minimised token at the end of a search. In place, not by
  // writing a temporary file and renaming it over the path (WriteTokenFile's way):
  // a rename would move the path to a new inode that this run has not locked (a
  // second run could then take the path while this one still reports it), and would
  // replace a user's file (its links, owner and mode) by another. Errors (one line,
  // naming the path): an empty or multi-line token, a failed write or sync.
  absl::Status WriteFinal(std::string_view token);

 private:
  TokenFile(std::string path, int fd, char* map);
  // Locks `fd`, checks the content if `check_content`, sizes and maps it; closes `fd`
  // on error.
  static absl::StatusOr<std::unique_ptr<TokenFile>> Adopt(std::string path, int fd,
                                                          bool check_content);
  bool WriteLong(std::string_view content);  // content past kMapSize: pwrite

  const std::string path_;
  const int fd_;
  char* const map_;   // kMapSize bytes, MAP_SHARED
  size_t file_size_;  // >= kMapSize; larger after a long token
  size_t used_ = 0;   // bytes of the mapping that are not '\n' padding
};

// The directory for per-run token files when no --token-file is given:
// $XDG_RUNTIME_DIR/aiosim if XDG_RUNTIME_DIR is set and non-empty (the subdirectory
// is created with mode 0700; XDG_RUNTIME_DIR is per user and cleared at logout), else
// $TMPDIR if set and non-empty, else /tmp. Trailing slashes are removed. Errors (one
// line that names the directory and the variable it came from, e.g. "TMPDIR is
// '/nonexistent': not a usable directory for token files (No such file or
// directory)"): the directory is missing, not a directory (a symlink to one is
// accepted for XDG_RUNTIME_DIR and TMPDIR themselves, not for the aiosim
// subdirectory), or not writable.
absl::StatusOr<std::string> DefaultTokenDir();

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_TOKEN_FILE_H_

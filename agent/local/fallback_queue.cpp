#include "agent/local/fallback_queue.h"

#include <capnp/serialize.h>
#include <dirent.h>
#include <fcntl.h>
#include <kj/exception.h>
#include <kj/io.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "agent/local/local_batch.h"

namespace octolaunch::agent {

namespace {

constexpr mode_t kQueueDirMode = 03733;
constexpr mode_t kGroupQueueDirMode = 03730;
constexpr mode_t kQueueFileMode = 0640;

std::string randomName() {
  static constexpr char kHex[] = "0123456789abcdef";
  const SessionId bytes = newSessionId();
  std::string name;
  for (auto b : bytes) {
    name.push_back(kHex[b >> 4]);
    name.push_back(kHex[b & 15]);
  }
  return name;
}

std::string errnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

class Fd final {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

struct Entry {
  std::string name;
  timespec mtime{};
};

std::vector<Entry> entriesByTime(int dirFd) {
  std::vector<Entry> entries;
  DIR* dir = ::fdopendir(::dup(dirFd));
  if (dir == nullptr) return entries;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    Entry entry{e->d_name, {}};
    struct stat st {};
    if (::fstatat(dirFd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) entry.mtime = st.st_mtim;
    entries.push_back(std::move(entry));
  }
  ::closedir(dir);
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.mtime.tv_sec != b.mtime.tv_sec) return a.mtime.tv_sec < b.mtime.tv_sec;
    if (a.mtime.tv_nsec != b.mtime.tv_nsec) return a.mtime.tv_nsec < b.mtime.tv_nsec;
    return a.name < b.name;
  });
  return entries;
}

enum class FileResult { done, kept };

// Reads one opened, locked queue file batch by batch into fn.
FileResult readFile(int fd, uid_t owner, const std::string& name, const ImportFn& fn,
                    ImportStats& stats) {
  kj::FdInputStream raw(fd);
  kj::BufferedInputStreamWrapper buffered(raw);
  for (;;) {
    try {
      if (buffered.tryGetReadBuffer().size() == 0) return FileResult::done;
      capnp::InputStreamMessageReader read(buffered, batchReaderOptions());
      BatchMessage message(read);
      auto batch = message.getRoot<schema::LocalBatch>();
      ++stats.batches;
      if (fn(owner, batch) == ImportVerdict::retryLater) return FileResult::kept;
    } catch (const kj::Exception& e) {
      stats.problems.push_back("queue file " + name +
                               " read in part: " + e.getDescription().cStr());
      return FileResult::done;
    }
  }
}

}  // namespace

void makeQueueDir(const std::filesystem::path& dir, std::optional<gid_t> group) {
  const mode_t mode = group ? kGroupQueueDirMode : kQueueDirMode;
  std::error_code ec;
  if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST)
    throw std::runtime_error(errnoText("cannot create queue directory " + dir.string()));
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw std::runtime_error("queue directory " + dir.string() + " is not a directory");
  // Its owner can list it and read what its files' modes let the owner's group read.
  if (st.st_uid != ::geteuid())
    throw std::runtime_error("queue directory " + dir.string() + " belongs to uid " +
                             std::to_string(st.st_uid) + ", not to the agent");
  if (group && st.st_gid != *group && ::chown(dir.c_str(), static_cast<uid_t>(-1), *group) != 0)
    throw std::runtime_error(
        errnoText("cannot give queue directory " + dir.string() + " to the socket group"));
  // mkdir's mode is filtered by the umask, and the setgid bit is not always taken from it.
  if ((st.st_mode & 07777) != mode && st.st_uid == ::geteuid() && ::chmod(dir.c_str(), mode) != 0)
    throw std::runtime_error(errnoText("cannot set the mode of queue directory " + dir.string()));
}

QueueFile::QueueFile(const std::filesystem::path& dir) : path_(dir / randomName()) {
  // Made here only where the caller may (root before any daemon ran); the daemon makes it at start.
  if (::mkdir(dir.c_str(), kQueueDirMode) == 0) ::chmod(dir.c_str(), kQueueDirMode);
  // Created under a dot name (which the importer passes over) and renamed once locked, so the
  // importer never takes a file its writer has not locked yet.
  const std::filesystem::path creating = dir / ("." + path_.filename().string());
  fd_ = ::open(creating.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
               kQueueFileMode);
  if (fd_ < 0) throw std::runtime_error(errnoText("cannot queue in " + dir.string()));
  // The umask may have taken the group's read bit, which the daemon reads through.
  if (::fchmod(fd_, kQueueFileMode) != 0 || ::flock(fd_, LOCK_EX) != 0 ||
      ::rename(creating.c_str(), path_.c_str()) != 0) {
    const std::string why = errnoText("cannot prepare " + path_.string());
    ::close(fd_);
    ::unlink(creating.c_str());
    throw std::runtime_error(why);
  }
}

QueueFile::~QueueFile() {
  if (fd_ >= 0) ::close(fd_);
}

void QueueFile::write(kj::ArrayPtr<const capnp::word> message) {
  const auto bytes = message.asBytes();
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.begin() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(errnoText("cannot write " + path_.string()));
    done += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd_) != 0) throw std::runtime_error(errnoText("cannot sync " + path_.string()));
}

ImportStats importQueue(const std::filesystem::path& dir, const ImportFn& fn) {
  ImportStats stats;
  Fd dirFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirFd.get() < 0) throw std::runtime_error(errnoText("cannot read queue " + dir.string()));
  for (const Entry& entry : entriesByTime(dirFd.get())) {
    Fd fd(::openat(dirFd.get(), entry.name.c_str(),
                   O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    struct stat st {};
    std::string refused;
    if (fd.get() < 0) {
      refused = std::strerror(errno);
    } else if (::fstat(fd.get(), &st) != 0) {
      refused = std::strerror(errno);
    } else if (!S_ISREG(st.st_mode)) {
      refused = "not a regular file";
    } else if (st.st_nlink != 1) {
      refused = "a file with other names (hard links)";
    }
    if (!refused.empty()) {
      stats.problems.push_back("queue file " + entry.name + " deleted unread: " + refused);
      ::unlinkat(dirFd.get(), entry.name.c_str(), 0);
      continue;
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      ++stats.busy;
      continue;
    }
    // Reads block from here on: the file is a regular one.
    ::fcntl(fd.get(), F_SETFL, O_RDONLY);
    switch (readFile(fd.get(), st.st_uid, entry.name, fn, stats)) {
      case FileResult::done:
        ::unlinkat(dirFd.get(), entry.name.c_str(), 0);
        ++stats.files;
        break;
      case FileResult::kept:
        ++stats.kept;
        break;
    }
  }
  return stats;
}

}  // namespace octolaunch::agent

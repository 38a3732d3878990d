// The fallback queue: where `hook` and `deploy` keep their batches while the daemon is not
// running, for the daemon to import (and then delete) when it starts and every few seconds while
// it runs.
//
// Layout and permissions
//  * One directory (AgentConfig::queueDir()), created by the daemon owned by its user and group,
//    mode 3733: anyone may create a file in it, nobody but its owner may list it (names are 128
//    random bits, so another user cannot find a file to open), the sticky bit keeps users from
//    deleting or renaming each other's files, and the setgid bit gives every file the agent's
//    group.
//  * A file is created by its writer mode 0640 (owner rw, agent group r): the daemon reads it
//    through the group when it runs as its own user, as root it reads it anyway. Keep the agent's
//    group to the agent's user: a member of it could read (not change) files it can find.
//  * A file holds LocalBatch messages (local_batch.h) in Cap'n Proto stream framing. Its writer
//    holds an exclusive flock while writing; a locked file is left for a later import.
//  * The importer credits every batch of a file to the file's owner as fstat() reports it, never to
//    anything the file says. It opens with O_NOFOLLOW and takes only regular files with one link,
//    so a user cannot make it read someone else's file under their own name.
//
// Threads: a QueueFile belongs to one thread. importQueue() runs on the caller's thread and
// blocks on file reads.
#pragma once

#include <capnp/common.h>
#include <kj/common.h>
#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "octolaunch/schema/local.capnp.h"

namespace octolaunch::agent {

// The daemon's side: creates dir (and its parents) mode 3733 when missing, and fixes the mode of
// an existing one. With `group` (the socket group), the directory is that group's, mode 3730:
// only its members may add files, which take the group (the daemon reads them as a member).
// Throws std::runtime_error naming the directory, also when another user owns it.
void makeQueueDir(const std::filesystem::path& dir, std::optional<gid_t> group = std::nullopt);

class QueueFile final {
 public:
  // Creates a file of a random name in dir, mode 0640, locked; creates dir (3733) when missing
  // and its parent lets the caller. Throws std::runtime_error naming the directory and the reason
  // (no such directory, permission denied, disk full).
  explicit QueueFile(const std::filesystem::path& dir);
  ~QueueFile();  // closes it, which releases the lock: the daemon may import it from then on
  QueueFile(const QueueFile&) = delete;
  QueueFile& operator=(const QueueFile&) = delete;

  // Appends one framed message (capnp::messageToFlatArray) and syncs it to disk. Throws
  // std::runtime_error; what was written before stays importable.
  void write(kj::ArrayPtr<const capnp::word> message);
  const std::filesystem::path& path() const { return path_; }

 private:
  int fd_ = -1;
  std::filesystem::path path_;
};

// What the importer does with a batch: it is stored or refused for good (done), or the storage
// failed and the file must be kept for a later import (retryLater).
enum class ImportVerdict { done, retryLater };
using ImportFn = std::function<ImportVerdict(uid_t owner, schema::LocalBatch::Reader batch)>;

struct ImportStats {
  std::size_t files = 0;              // files read to their end and deleted
  std::size_t batches = 0;            // batches handed to the ImportFn
  std::size_t busy = 0;               // files still being written (locked), left for later
  std::size_t kept = 0;               // files left for later because the ImportFn said retryLater
  std::vector<std::string> problems;  // files deleted unread or read in part, and why
};

// Imports every unlocked file in dir in the order of their modification times: hands each batch
// to fn, in file order, then deletes the file. A file that is not a regular file with one link, or
// cannot be opened, is deleted unread; one whose content stops making sense (a writer that
// crashed mid-batch) is read up to there. Never throws for a file's content or type; throws
// std::runtime_error when dir cannot be read.
ImportStats importQueue(const std::filesystem::path& dir, const ImportFn& fn);

}  // namespace octolaunch::agent

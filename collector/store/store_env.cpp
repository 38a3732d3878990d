#include "collector/store/store_env.h"

namespace octolaunch {

lmdb::Env openCollectorEnv(const std::filesystem::path& dataDir, std::size_t mapSize) {
  return lmdb::Env::open({.dir = dataDir,
                          .mapSize = mapSize,
                          .maxDbs = 32,
                          .maxReaders = 254,
                          .flags = MDB_NOTLS,
                          .fileMode = 0640});
}

lmdb::Env openCollectorEnvReadOnly(const std::filesystem::path& dataDir, std::size_t mapSize) {
  return lmdb::Env::open({.dir = dataDir,
                          .mapSize = mapSize,
                          .maxDbs = 32,
                          .maxReaders = 254,
                          .flags = MDB_NOTLS | MDB_RDONLY,
                          .fileMode = 0640});
}

}  // namespace octolaunch

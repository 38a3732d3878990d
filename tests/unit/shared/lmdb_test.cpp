#include "shared/lmdb/lmdb.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace octolaunch::lmdb {
namespace {

std::filesystem::path tempDir() {
  auto dir = std::filesystem::temp_directory_path() /
             ("octolaunch-lmdb-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(Lmdb, PutGetCursorOrderAndDelete) {
  auto dir = tempDir();
  Env env = Env::open({.dir = dir, .mapSize = 8 << 20});
  {
    Txn txn = Txn::begin(env, Txn::Mode::write);
    MDB_dbi dbi = openDbi(txn, "t");
    for (std::uint64_t i : {300u, 5u, 70000u}) put(txn, dbi, bigEndian(i), "v" + std::to_string(i));
    txn.commit();
  }
  Txn txn = Txn::begin(env, Txn::Mode::write);
  MDB_dbi dbi = openDbi(txn, "t");
  EXPECT_EQ(get(txn, dbi, bigEndian(300)), "v300");
  EXPECT_FALSE(get(txn, dbi, bigEndian(301)));
  Cursor c(txn, dbi);
  std::vector<std::uint64_t> seen;
  for (bool ok = c.first(); ok; ok = c.next()) seen.push_back(readBigEndian(c.key()));
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{5, 300, 70000}));
  ASSERT_TRUE(c.seek(bigEndian(6)));
  EXPECT_EQ(readBigEndian(c.key()), 300u);
  c.del();
  ASSERT_TRUE(c.next());
  EXPECT_EQ(readBigEndian(c.key()), 70000u);
  EXPECT_TRUE(del(txn, dbi, bigEndian(5)));
  EXPECT_FALSE(del(txn, dbi, bigEndian(5)));
  std::filesystem::remove_all(dir);
}

TEST(Lmdb, MapFullIsReportedAsAnError) {
  auto dir = tempDir();
  Env env = Env::open({.dir = dir, .mapSize = 256 << 10});
  Txn txn = Txn::begin(env, Txn::Mode::write);
  MDB_dbi dbi = openDbi(txn, "t");
  std::string value(4000, 'x');
  bool sawMapFull = false;
  try {
    for (std::uint64_t i = 0; i < 1000; ++i) put(txn, dbi, bigEndian(i), value);
  } catch (const Error& e) {
    sawMapFull = e.mapFull();
  }
  EXPECT_TRUE(sawMapFull);
  std::filesystem::remove_all(dir);
}

TEST(Lmdb, CopyToWritesTheCommittedDataPlainOrCompactedAndRefusesAnExistingFile) {
  auto dir = tempDir();
  Env env = Env::open({.dir = dir / "src", .mapSize = 64 << 20});
  {
    Txn txn = Txn::begin(env, Txn::Mode::write);
    MDB_dbi kept = openDbi(txn, "kept");
    MDB_dbi dropped = openDbi(txn, "dropped");
    for (std::uint64_t i = 0; i < 3; ++i) put(txn, kept, bigEndian(i), "v" + std::to_string(i));
    for (std::uint64_t i = 0; i < 2000; ++i)
      put(txn, dropped, bigEndian(i), std::string(4000, 'x'));
    txn.commit();
    txn = Txn::begin(env, Txn::Mode::write);
    check(mdb_drop(txn.get(), openDbi(txn, "dropped"), 1), "mdb_drop");
    txn.commit();
  }
  const std::uint64_t committed = env.lastTxnId();
  std::filesystem::create_directories(dir / "plain");
  std::filesystem::create_directories(dir / "compact");
  env.copyTo(dir / "plain" / "data.mdb", /*compact=*/false);
  env.copyTo(dir / "compact" / "data.mdb", /*compact=*/true);
  EXPECT_EQ(std::filesystem::status(dir / "plain" / "data.mdb").permissions() &
                std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                std::filesystem::perms::group_read);
  EXPECT_LT(std::filesystem::file_size(dir / "compact" / "data.mdb") + (4 << 20),
            std::filesystem::file_size(dir / "plain" / "data.mdb"));
  for (const char* name : {"plain", "compact"}) {
    Env copy = Env::open({.dir = dir / name, .mapSize = 64 << 20});
    if (std::string_view(name) == "plain") {
      EXPECT_EQ(copy.lastTxnId(), committed);  // a compacted copy starts again at 1
    }
    Txn txn = Txn::begin(copy, Txn::Mode::read);
    MDB_dbi kept = openDbi(txn, "kept");
    EXPECT_EQ(entriesIn(txn, kept), 3u) << name;
    EXPECT_EQ(get(txn, kept, bigEndian(2)), "v2") << name;
  }
  try {
    env.copyTo(dir / "plain" / "data.mdb", false);
    ADD_FAILURE() << "copied over an existing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), EEXIST);
    EXPECT_NE(std::string(e.what()).find((dir / "plain" / "data.mdb").string()), std::string::npos)
        << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace octolaunch::lmdb

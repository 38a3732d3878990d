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

}  // namespace
}  // namespace octolaunch::lmdb

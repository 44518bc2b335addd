#include "capi/context_store.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "libkrun.h"

namespace vk::capi {
namespace {

TEST(ContextStoreTest, IdsStartAtZeroAndAreNeverReused) {
  ContextStore store;
  EXPECT_EQ(store.Create(), 0);
  EXPECT_EQ(store.Create(), 1);
  EXPECT_TRUE(store.Free(0));
  EXPECT_FALSE(store.Free(0));
  EXPECT_EQ(store.Create(), 2);
  EXPECT_TRUE(store.Take(1).has_value());
  EXPECT_FALSE(store.Take(1).has_value());
  EXPECT_EQ(store.Create(), 3);
  EXPECT_EQ(store.size(), 2u);
}

TEST(ContextStoreTest, RunsOutInsteadOfWrappingToNegativeIds) {
  ContextStore store(INT32_MAX);
  EXPECT_EQ(store.Create(), INT32_MAX);
  EXPECT_EQ(store.Create(), -ENOSPC);
  EXPECT_EQ(store.Create(), -ENOSPC);
}

TEST(ContextStoreTest, NewContextsHaveLibkrunDefaults) {
  ContextStore store;
  uint32_t id = static_cast<uint32_t>(store.Create());
  std::optional<KrunConfig> config = store.Take(id);
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->vcpus, 1);
  EXPECT_EQ(config->ram_mib, 128u);
  EXPECT_TRUE(config->implicit_console);
  EXPECT_EQ(config->vsock_mode, VsockMode::kImplicit);
  EXPECT_EQ(config->legacy_mac, kDefaultLegacyMac);
}

TEST(ContextStoreTest, WithReportsUnknownIds) {
  ContextStore store;
  EXPECT_EQ(store.With(5, [](KrunConfig&) { return 0; }), -ENOENT);
  uint32_t id = static_cast<uint32_t>(store.Create());
  EXPECT_EQ(store.With(id, [](KrunConfig& config) { return int32_t{config.vcpus}; }), 1);
}

TEST(ContextStoreTest, ThreadsGetDistinctIdsFromTheLibrary) {
  std::vector<std::vector<int32_t>> ids(4);
  std::vector<std::thread> threads;
  for (auto& mine : ids) {
    threads.emplace_back([&mine] {
      for (int i = 0; i < 200; ++i) {
        int32_t id = krun_create_ctx();
        mine.push_back(id);
        krun_free_ctx(static_cast<uint32_t>(id));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<int32_t> all;
  for (const auto& mine : ids) {
    for (int32_t id : mine) {
      EXPECT_GE(id, 0);
      EXPECT_TRUE(all.insert(id).second) << "id " << id << " handed out twice";
    }
  }
  EXPECT_EQ(all.size(), 800u);
}

}  // namespace
}  // namespace vk::capi

#include "build/build_cache.h"

#include <gtest/gtest.h>

#include "image/test_support.h"

namespace vk::build {
namespace {

TEST(CacheKeyTest, PartsAreSeparatedAndOrdered) {
  EXPECT_NE(CacheKey("p").Add("ab").Add("c").Hex(), CacheKey("p").Add("a").Add("bc").Hex());
  EXPECT_NE(CacheKey("p").Add("a").Add("b").Hex(), CacheKey("p").Add("b").Add("a").Hex());
  EXPECT_NE(CacheKey("p1").Add("a").Hex(), CacheKey("p2").Add("a").Hex());
  EXPECT_EQ(CacheKey("p").Add("a").Hex(), CacheKey("p").Add("a").Hex());
  EXPECT_EQ(CacheKey("p").Hex().size(), 64u);
}

TEST(BuildCacheTest, EntriesRoundTripAndNeedTheirBlobs) {
  image::testing::TempDir dir;
  auto store = image::Store::Open(dir / "store");
  ASSERT_TRUE(store.ok());
  BuildCache cache(*store);
  std::string key = CacheKey("p").Hex();
  EXPECT_FALSE(cache.Find(key).has_value());
  std::string layer = *store->PutBlob("layer bytes");
  StageSnapshot snapshot;
  snapshot.layers.push_back({layer, 11});
  snapshot.config.SetEnv("A", "1");
  ASSERT_TRUE(cache.Put(key, snapshot).ok());
  auto found = cache.Find(key);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->layers.at(0).digest, layer);
  EXPECT_EQ(found->config, snapshot.config);
  // A pruned layer makes the entry a miss (the step runs again).
  ASSERT_TRUE(store->Prune(image::Store::BuildCachePolicy::kKeep).ok());
  EXPECT_TRUE(cache.Find(key).has_value());  // kept: the entry names it
  ASSERT_TRUE(store->Prune(image::Store::BuildCachePolicy::kDrop).ok());
  EXPECT_FALSE(cache.Find(key).has_value());
  EXPECT_FALSE(store->HasBlob(layer));
  EXPECT_FALSE(cache.Find("../../etc/passwd").has_value());  // keys are hex only
}

}  // namespace
}  // namespace vk::build

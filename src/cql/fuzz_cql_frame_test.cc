// Runs the fuzz target over its shipped inputs (fuzz/corpus/cql_frame_fuzzer/
// and fuzz/regressions/cql_frame_fuzzer/) and over
// deterministic mutations of every seed (each prefix, and each byte replaced by
// 0x00, 0xff, and with its top bit flipped), so the decoders' properties are
// checked by every ordinary test run, not only under libFuzzer.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int FuzzOne(const std::string& input) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  for (const char* directory : {WAL_CQL_FUZZ_CORPUS, WAL_CQL_FUZZ_REGRESSIONS}) {
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
      std::ifstream file(entry.path(), std::ios::binary);
      seeds.emplace_back(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    }
  }
  return seeds;
}

TEST(FuzzCqlFrameTest, SeedCorpusRunsClean) {
  const std::vector<std::string> seeds = Seeds();
  ASSERT_GE(seeds.size(), 20u) << "seed corpus missing at " << WAL_CQL_FUZZ_CORPUS;
  for (const std::string& seed : seeds) EXPECT_EQ(FuzzOne(seed), 0);
  EXPECT_EQ(FuzzOne(""), 0);
}

TEST(FuzzCqlFrameTest, MutatedSeedsRunClean) {
  size_t runs = 0;
  for (const std::string& seed : Seeds()) {
    for (size_t size = 0; size < seed.size(); ++size, ++runs) FuzzOne(seed.substr(0, size));
    for (size_t i = 0; i < seed.size(); ++i) {
      for (int mutation = 0; mutation < 3; ++mutation, ++runs) {
        std::string mutated = seed;
        mutated[i] = mutation == 0 ? '\x00' : mutation == 1 ? '\xff' : static_cast<char>(mutated[i] ^ 0x80);
        FuzzOne(mutated);
      }
    }
  }
  EXPECT_GT(runs, 1000u);
}

}  // namespace

// The fuzz entry under the normal build: the seed corpus, every file of tests/fuzz/corpus
// (seeds and any reproducer saved there), and a fixed stream of random inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "fuzz/fuzz_case.hpp"

namespace convjit::fuzz {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(CONVJIT_TEST_DIR) / "fuzz" / "corpus";

std::vector<std::uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Runs inputs, fails the test on every kFailed, returns the count of each outcome.
std::map<Outcome, int> replay(const std::vector<std::vector<std::uint8_t>>& inputs,
                              const std::string& source) {
  std::map<Outcome, int> counts;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const CaseResult r = run_case(inputs[i].data(), inputs[i].size());
    ++counts[r.outcome];
    if (std::getenv("CONVJIT_FUZZ_VERBOSE")) {
      std::printf("%s #%zu %s: %s\n", source.c_str(), i, outcome_name(r.outcome), r.detail.c_str());
    }
    EXPECT_NE(r.outcome, Outcome::kFailed) << source << " #" << i << ": " << r.detail;
  }
  std::printf("%s: %zu inputs:", source.c_str(), inputs.size());
  for (const auto& [outcome, count] : counts) std::printf(" %d %s", count, outcome_name(outcome));
  std::printf("\n");
  return counts;
}

TEST(FuzzReplay, SeedInputsAreRefusedOrMatchTheReference) {
  const auto counts = replay(seed_inputs(), "seed_inputs()");
  // The seeds reach both answers, and real kernels run.
  EXPECT_GE(counts.count(Outcome::kMatched) ? counts.at(Outcome::kMatched) : 0, 20);
  EXPECT_GE(counts.count(Outcome::kRefused) ? counts.at(Outcome::kRefused) : 0, 10);
}

TEST(FuzzReplay, CorpusDirectoryReplays) {
  ASSERT_TRUE(fs::is_directory(kCorpus)) << kCorpus;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kCorpus)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), seed_inputs().size()) << "regenerate with WriteSeedCorpus";
  std::vector<std::vector<std::uint8_t>> inputs;
  for (const fs::path& f : files) inputs.push_back(read_bytes(f));
  const auto counts = replay(inputs, kCorpus.string());
  EXPECT_GE(counts.count(Outcome::kMatched) ? counts.at(Outcome::kMatched) : 0, 20);
}

TEST(FuzzReplay, RandomBytesAreRefusedOrMatchTheReference) {
  std::mt19937 rng(8);
  std::vector<std::vector<std::uint8_t>> inputs;
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::uint8_t> v(static_cast<std::size_t>(1 + rng() % 64));
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    inputs.push_back(v);
  }
  const auto counts = replay(inputs, "random bytes");
  EXPECT_GE(counts.count(Outcome::kMatched) ? counts.at(Outcome::kMatched) : 0, 200);
}

/// Writes seed_inputs() to tests/fuzz/corpus/seed_NNN (run by hand after changing them).
TEST(FuzzReplay, DISABLED_WriteSeedCorpus) {
  fs::create_directories(kCorpus);
  const auto seeds = seed_inputs();
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "seed_%03zu", i);
    std::ofstream out(kCorpus / name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(seeds[i].data()),
              static_cast<std::streamsize>(seeds[i].size()));
    ASSERT_TRUE(out.good()) << name;
  }
}

}  // namespace
}  // namespace convjit::fuzz

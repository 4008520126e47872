// Golden assembly: the interior micro-kernel of each strategy on each ISA, as the Xbyak
// backend emits it (tests/golden/asm/*.txt), generated on any host. A change to register
// allocation, loads, broadcasts or loop structure shows as a diff a reviewer reads;
// CONVJIT_BLESS=1 rewrites the files. Each file starts with the kernel, its schedule and the
// counts of the section (FMAs, memory reads, broadcasts).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/asm_text.hpp"
#include "convjit/convjit.hpp"

namespace convjit {
namespace {

struct GoldenKernel {
  const char* name;
  const char* spec;
  Shape3 shape;
};

// One per strategy the heuristic picks (docs/jit.md): each is emitted for avx2 and avx512.
const GoldenKernel kKernels[] = {
    {"direct_tcn", "filters=128,kernel_size=3,dilation_rate=4,padding=causal", {1, kDynamic, 128}},
    {"pointwise", "filters=256,kernel_size=1", {1, kDynamic, 256}},
    {"grouped", "filters=512,kernel_size=3,groups=16,padding=same", {1, kDynamic, 512}},
    {"first_layer_tap_classes", "filters=512,kernel_size=10,strides=5", {1, kDynamic, 1}},
    {"depthwise_weights_in_registers",
     "filters=256,kernel_size=3,groups=256,padding=same",
     {1, kDynamic, 256}},
    {"depthwise_held_weights_shared_rows",
     "filters=32,kernel_size=3,groups=32,padding=same",
     {1, kDynamic, 32}},
    {"depthwise_tap_groups",
     "filters=256,kernel_size=31,groups=256,padding=same",
     {1, kDynamic, 256}},
};

std::string golden_path(const std::string& name) {
  return std::string(CONVJIT_TEST_DIR) + "/golden/asm/" + name + ".txt";
}

/// The first column function's interior micro-kernel: from its "micro-kernel" note to the
/// next "epilogue" note, offsets dropped and branch targets written as instruction indices
/// of the section ("L3"), or "out" when they leave it.
std::string interior_section(const Kernel& kernel, std::vector<std::string>* body) {
  const std::vector<test::AsmLine> lines = test::parse_asm(kernel.disassemble());
  std::size_t begin = 0;
  while (begin < lines.size() &&
         !(lines[begin].note && lines[begin].text.rfind("micro-kernel", 0) == 0)) {
    ++begin;
  }
  EXPECT_LT(begin, lines.size()) << kernel.name() << ": no micro-kernel note";
  std::size_t end = begin + 1;
  while (end < lines.size() && !(lines[end].note && lines[end].text.rfind("epilogue", 0) == 0)) {
    ++end;
  }
  std::map<std::size_t, std::size_t> index;  // offset -> instruction index in the section
  std::size_t count = 0;
  for (std::size_t i = begin; i < end; ++i) {
    if (!lines[i].note) index[lines[i].offset] = count++;
  }
  static const std::regex target(R"(^(j[a-z]+) 0x([0-9a-f]+)$)");
  std::string out;
  for (std::size_t i = begin; i < end; ++i) {
    if (lines[i].note) {
      out += "; " + lines[i].text + "\n";
      continue;
    }
    std::string text = lines[i].text;
    std::smatch m;
    if (std::regex_match(text, m, target)) {
      const auto at = index.find(std::stoull(m[2].str(), nullptr, 16));
      text = m[1].str() + " " + (at == index.end() ? "out" : "L" + std::to_string(at->second));
    }
    out += fmt::format("L{}: {}\n", index[lines[i].offset], text);
    body->push_back(text);
  }
  return out;
}

std::string render(const GoldenKernel& g, Isa isa) {
  CompileOptions options;
  options.isa = isa;
  options.allow_unsupported_isa = true;  // generated and checked on any host
  options.use_tuning_db = false;
  options.threads = 1;
  const Kernel kernel = compile(parse_spec(g.spec), g.shape, options);
  std::vector<std::string> body;
  const std::string section = interior_section(kernel, &body);
  const int fmas = test::count_containing(body, "vfmadd");
  const int broadcasts = test::count_containing(body, "vbroadcastss");
  int reads = 0;
  for (const std::string& line : body) reads += line.find("ptr [") != std::string::npos;
  EXPECT_GT(fmas, 0) << g.name << " " << isa_name(isa);
  return fmt::format(
      "# {}\n# kernel: {}\n# schedule: {}\n# section: {} FMAs, {} instructions with a memory "
      "operand, {} broadcasts\n{}",
      g.spec, kernel.name(), kernel.schedule_text(), fmas, reads, broadcasts, section);
}

TEST(GoldenAsm, InteriorMicroKernelsMatchTheBlessedText) {
  const bool bless = std::getenv("CONVJIT_BLESS") != nullptr;
  for (const GoldenKernel& g : kKernels) {
    for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
      const std::string name = fmt::format("{}_{}", g.name, isa_name(isa));
      const std::string got = render(g, isa);
      if (bless) {
        std::ofstream out(golden_path(name));
        out << got;
        ASSERT_TRUE(out.good()) << "cannot write " << golden_path(name);
        continue;
      }
      std::ifstream in(golden_path(name));
      ASSERT_TRUE(in.good()) << golden_path(name) << " missing: run with CONVJIT_BLESS=1";
      std::stringstream want;
      want << in.rdbuf();
      EXPECT_EQ(got, want.str()) << name
                                 << " changed; if intended, rerun with CONVJIT_BLESS=1 and "
                                    "review the diff of tests/golden/asm/";
    }
  }
}

}  // namespace
}  // namespace convjit

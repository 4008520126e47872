// The LLVM MC disassembler on known byte sequences.
#include "compiler/backend/disasm/disassemble.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace convjit::detail {
namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find('\n', pos);
    out.push_back(text.substr(pos, end - pos));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return out;
}

TEST(Disassemble, AvxAndAvx512FmaInIntelSyntax) {
  // vfmadd231ps zmm0, zmm1, zmm2 ; vfmadd231ps ymm3, ymm4, ymm5 ; ret
  const std::vector<std::uint8_t> code = {0x62, 0xf2, 0x75, 0x48, 0xb8, 0xc2,
                                          0xc4, 0xe2, 0x5d, 0xb8, 0xdd, 0xc3};
  const auto out = lines(disassemble_x86(code.data(), code.size(), 0, {}));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], "000000:  vfmadd231ps zmm0, zmm1, zmm2");
  EXPECT_EQ(out[1], "000006:  vfmadd231ps ymm3, ymm4, ymm5");
  EXPECT_EQ(out[2], "00000b:  ret");
}

TEST(Disassemble, EmbeddedBroadcastAndStackOperand) {
  // vfmadd231ps zmm7, zmm8, dword ptr [rax+0x40]{1to16} ; vmovups ymmword ptr [rsp+8], ymm1
  const std::vector<std::uint8_t> code = {0x62, 0xf2, 0x3d, 0x58, 0xb8, 0x78, 0x10,
                                          0xc5, 0xfc, 0x11, 0x4c, 0x24, 0x08};
  const auto out = lines(disassemble_x86(code.data(), code.size(), 0, {}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], "000000:  vfmadd231ps zmm7, zmm8, dword ptr [rax + 0x40]{1to16}");
  EXPECT_EQ(out[1], "000007:  vmovups ymmword ptr [rsp + 0x8], ymm1");
}

TEST(Disassemble, AnnotationsGoBeforeTheirInstruction) {
  // nop ; jmp -2 (to itself) ; ret
  const std::vector<std::uint8_t> code = {0x90, 0xeb, 0xfe, 0xc3};
  const std::vector<CodeAnnotation> notes = {
      {1, "loop t (interior)"}, {0, "entry"}, {2, "inside the jmp"}, {99, "end"}};
  const auto out = lines(disassemble_x86(code.data(), code.size(), 0, notes));
  const std::vector<std::string> expected = {
      "; entry",      "000000:  nop", "; loop t (interior)", "000001:  jmp 0x1", "; inside the jmp",
      "000003:  ret", "; end"};
  EXPECT_EQ(out, expected);
}

TEST(Disassemble, BranchTargetsUseTheBaseAddress) {
  const std::vector<std::uint8_t> code = {0x90, 0xeb, 0xfe};
  const auto out = lines(disassemble_x86(code.data(), code.size(), 0x1000, {}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1], "000001:  jmp 0x1001");
}

TEST(Disassemble, DataRegionsAndUndecodableBytes) {
  // ret, then a constant table (1.0f, 2.0f), then a lone 0x0f (not an instruction).
  const std::vector<std::uint8_t> code = {0xc3, 0x00, 0x00, 0x80, 0x3f,
                                          0x00, 0x00, 0x00, 0x40, 0x0f};
  const std::vector<CodeAnnotation> notes = {{1, "data: constants"}, {9, "after data"}};
  const auto out = lines(disassemble_x86(code.data(), code.size(), 0, notes));
  const std::vector<std::string> expected = {"000000:  ret",
                                             "; data: constants",
                                             "000001:  .long 0x3f800000",
                                             "000005:  .long 0x40000000",
                                             "; after data",
                                             "000009:  .byte 0x0f"};
  EXPECT_EQ(out, expected);
}

TEST(Disassemble, ConcurrentCallsGiveTheSameText) {
  const std::vector<std::uint8_t> code = {0x62, 0xf2, 0x75, 0x48, 0xb8, 0xc2, 0xc3};
  const std::string expected = disassemble_x86(code.data(), code.size(), 0, {});
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int r = 0; r < 20; ++r) got[i] = disassemble_x86(code.data(), code.size(), 0, {});
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, expected);
}

}  // namespace
}  // namespace convjit::detail

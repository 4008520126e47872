// Reading the annotated assembly of Kernel::disassemble() in tests: instruction lines,
// loops found through their annotations, counts of what a loop body holds.
#pragma once

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace convjit::test {

struct AsmLine {
  bool note = false;       // "; text"
  std::size_t offset = 0;  // instructions only
  std::string text;
};

inline std::vector<AsmLine> parse_asm(const std::string& text) {
  std::vector<AsmLine> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    AsmLine l;
    if (line.rfind("; ", 0) == 0) {
      l.note = true;
      l.text = line.substr(2);
    } else {
      const auto colon = line.find(':');
      l.offset = std::stoull(line.substr(0, colon), nullptr, 16);
      l.text = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    out.push_back(l);
  }
  return out;
}

/// A loop found through its annotation: the instructions from its head to the conditional
/// branch back to it.
struct AsmLoop {
  std::string note;
  std::vector<std::string> body;
};

inline std::vector<AsmLoop> find_loops(const std::vector<AsmLine>& lines,
                                       const std::string& prefix) {
  std::vector<AsmLoop> loops;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].note || lines[i].text.rfind(prefix, 0) != 0) continue;
    std::size_t j = i + 1;
    while (j < lines.size() && lines[j].note) ++j;
    if (j == lines.size()) continue;
    const std::size_t head = lines[j].offset;
    AsmLoop loop;
    loop.note = lines[i].text;
    bool closed = false;
    for (; j < lines.size() && !closed; ++j) {
      if (lines[j].note) continue;
      loop.body.push_back(lines[j].text);
      const std::string& t = lines[j].text;
      if (t[0] == 'j' && t.rfind("jmp", 0) != 0) {
        const auto space = t.find(' ');
        const auto target = std::stoull(t.substr(space + 1), nullptr, 16);
        closed = target == head;
      }
    }
    EXPECT_TRUE(closed) << "no branch back to the loop '" << loop.note << "'";
    loops.push_back(loop);
  }
  return loops;
}

inline int count_containing(const std::vector<std::string>& lines, const std::string& what) {
  int n = 0;
  for (const auto& l : lines) n += l.find(what) != std::string::npos;
  return n;
}

/// Instructions of `body` that read memory: loads, broadcasts, and memory source operands
/// (an FMA's embedded broadcast included); stores (memory destination) and prefetches not.
inline int count_loads(const std::vector<std::string>& body) {
  int n = 0;
  for (const auto& t : body) {
    const auto ptr = t.find("ptr [");
    if (ptr == std::string::npos || t.rfind("prefetch", 0) == 0 || t.rfind("lea", 0) == 0) continue;
    const auto space = t.find(' ');
    const auto comma = t.find(',');
    const bool destination = comma != std::string::npos && ptr > space && ptr < comma;
    if (!destination) ++n;
  }
  return n;
}

}  // namespace convjit::test

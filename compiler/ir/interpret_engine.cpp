#include "compiler/ir/interpret_engine.hpp"

#include "compiler/ir/interpreter.hpp"
#include "compiler/ir/pipeline.hpp"
#include "compiler/problem.hpp"
#include "compiler/schedule/schedule.hpp"
#include "compiler/schedule/weight_layout.hpp"

namespace convjit::detail {

std::vector<float> run_interpreter(const Conv1DSpec& spec, const Shape3& input_shape,
                                   const float* input, const float* kernel, const float* bias,
                                   const std::string& schedule_text, Isa isa) {
  const Problem p = make_problem(spec, input_shape);
  const Isa resolved = isa == Isa::kAvx2 ? Isa::kAvx2 : Isa::kAvx512;
  Schedule s =
      schedule_text.empty() ? default_schedule(p, resolved) : parse_schedule(schedule_text);
  const ir::Func f = ir::lower_scheduled(p, s);

  std::vector<float> packed(static_cast<std::size_t>(packed_weights_size(p, f.weights)));
  pack_weights(p, f.weights, kernel, packed.data());
  std::vector<float> out(static_cast<std::size_t>(p.output_size()));
  std::vector<ir::BufferBinding> bind;
  for (const ir::BufferDecl& b : f.buffers) {
    switch (b.kind) {
      case ir::BufferKind::kInput:
        bind.push_back({const_cast<float*>(input), p.input_size()});
        break;
      case ir::BufferKind::kWeights:
        bind.push_back({packed.data(), static_cast<std::int64_t>(packed.size())});
        break;
      case ir::BufferKind::kBias:
        bind.push_back({const_cast<float*>(bias), bias ? p.filters : 0});
        break;
      case ir::BufferKind::kOutput:
        bind.push_back({out.data(), static_cast<std::int64_t>(out.size())});
        break;
      case ir::BufferKind::kScratch: bind.push_back({}); break;
    }
  }
  ir::interpret(f, p.batch, p.length, bind);
  return out;
}

}  // namespace convjit::detail

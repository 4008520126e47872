#include "runtime/tuner.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <set>

#include "compiler/schedule/enumerate.hpp"
#include "compiler/schedule/kernel_plan.hpp"
#include "convjit/error.hpp"

namespace convjit::detail {
namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

TuningRecord make_record(const TuneTarget& target, const TuneResult& r, bool final,
                         bool is_default) {
  TuningRecord rec;
  rec.key = target.key;
  rec.config = to_config_json(parse_spec_keywords(target.key.spec));
  rec.isa = isa_name(r.schedule.isa);
  rec.backend = target.backend;
  rec.schedule = to_string(r.schedule);
  rec.time_us = r.time_us;
  rec.gflops = std::isfinite(r.time_us) ? target.run_flops / (r.time_us * 1e3) : NAN;
  rec.checked = r.checked;
  rec.check = r.check;
  rec.final = final;
  rec.is_default = is_default;
  rec.date = local_iso_date();
  return rec;
}

/// One search: the state the visits share.
class Search {
 public:
  Search(const TuneCandidates& candidates, const TuneTarget& target,
         const std::map<std::string, TuningRecord>& known, const TuneBudget& budget,
         const TuneCallbacks& callbacks, double start)
      : candidates_(candidates),
        target_(target),
        known_(known),
        budget_(budget),
        callbacks_(callbacks),
        start_(std::isnan(start) ? now() : start),
        deadline_(start_ + budget.seconds * (1.0 - budget.final_share)),
        slot_(std::clamp(budget.seconds / 60.0, budget.min_slot, budget.max_slot)),
        total_(candidates.size()) {}

  TuneOutcome run();

 private:
  double now() const { return callbacks_.now ? callbacks_.now() : steady_seconds(); }
  bool out_of_budget() const {
    return now() > deadline_ ||
           (budget_.max_candidates > 0 &&
            outcome_.measured >= static_cast<std::size_t>(budget_.max_candidates));
  }
  void visit(const Schedule& s, bool is_default);
  void climb();
  void decide();
  void record(const TuneResult& r, bool final, bool is_default) {
    if (callbacks_.record) callbacks_.record(make_record(target_, r, final, is_default));
  }

  const TuneCandidates& candidates_;
  const TuneTarget& target_;
  const std::map<std::string, TuningRecord>& known_;
  const TuneBudget& budget_;
  const TuneCallbacks& callbacks_;
  const double start_, deadline_, slot_;
  std::size_t total_;
  std::deque<TuneResult> results_;  // stable addresses: best_ points into it
  std::set<std::string> visited_;   // candidate_identity of every visit
  const TuneResult* best_ = nullptr;
  TuneOutcome outcome_;
};

void Search::visit(const Schedule& s, bool is_default) {
  if (!visited_.insert(candidate_identity(s, target_.problem)).second) return;
  TuneResult r;
  r.schedule = s;
  if (auto it = known_.find(to_string(s)); it != known_.end()) {
    r.time_us = it->second.time_us;
    r.checked = it->second.usable();
    r.check = it->second.check;
    r.resumed = true;
    ++outcome_.resumed;
  } else {
    const double best_us = best_ ? best_->time_us : INFINITY;
    const Measurement m = callbacks_.measure(s, slot_, budget_.stop_factor * best_us);
    r.time_us = m.time_us;
    r.checked = m.checked;
    r.check = m.check;
    ++outcome_.measured;
    if (!r.checked) ++outcome_.failed;
    record(r, false, is_default);
  }
  results_.push_back(r);
  total_ = std::max(total_, visited_.size());
  if (callbacks_.progress) callbacks_.progress(r, visited_.size(), total_, now() - start_);
  if (r.checked && (best_ == nullptr || r.time_us < best_->time_us)) best_ = &results_.back();
}

void Search::climb() {
  const std::vector<Schedule>& defaults = candidates_.defaults;
  for (int round = 0; round < budget_.max_climbs && best_ && !out_of_budget(); ++round) {
    const Schedule center = best_->schedule;
    for (const Schedule& n : schedule_neighbors(center, target_.problem)) {
      if (out_of_budget()) break;
      const bool searched = std::any_of(defaults.begin(), defaults.end(),
                                        [&](const Schedule& d) { return d.isa == n.isa; });
      if (searched) visit(n, false);
    }
    if (best_->schedule == center) break;
  }
}

/// The best against the heuristic, head to head: the tuned schedule is never slower than the
/// heuristic by construction (a tie goes to the heuristic).
void Search::decide() {
  TuneOutcome& o = outcome_;
  o.heuristic = candidates_.defaults.front();
  o.tuned = o.heuristic;
  o.heuristic_result.schedule = o.heuristic;
  o.heuristic_result.check = "not measured";
  for (const TuneResult& r : results_) {
    if (r.schedule == o.heuristic) o.heuristic_result = r;
  }
  if (!o.heuristic_result.checked) {
    if (best_) o.tuned = best_->schedule, o.tuned_us = best_->time_us;
    return;
  }
  const double left = start_ + budget_.seconds - now();
  const double slot = std::clamp(std::min(left, budget_.seconds * budget_.final_share), 0.2, 5.0);
  if (best_ == nullptr || best_->schedule == o.heuristic) {
    const auto [a, b] = callbacks_.head_to_head(o.heuristic, o.heuristic, slot);
    o.heuristic_us = o.tuned_us = std::min(a, b);
  } else {
    const auto [h, b] = callbacks_.head_to_head(o.heuristic, best_->schedule, slot);
    o.heuristic_us = h;
    if (b < h) {
      o.tuned = best_->schedule;
      o.tuned_us = b;
    } else {
      o.tuned_us = h;
    }
    TuneResult final_best = *best_;
    final_best.time_us = b;
    final_best.resumed = false;
    record(final_best, true, false);
  }
  TuneResult final_heuristic = o.heuristic_result;
  final_heuristic.time_us = o.heuristic_us;
  final_heuristic.resumed = false;
  record(final_heuristic, true, true);
}

TuneOutcome Search::run() {
  // 1. The defaults and the cost model's favourites.
  for (const Schedule& d : candidates_.defaults) visit(d, true);
  const std::vector<Schedule>& ranked = candidates_.ranked;
  for (std::size_t i = 0; i < ranked.size() && i < budget_.first_ranked && !out_of_budget(); ++i) {
    visit(ranked[i], false);
  }
  // 2. Hill-climbing: the neighbours of the best, again while that improves.
  climb();
  // 3. The rest, in the cost model's order.
  for (std::size_t i = 0; i < ranked.size() && !out_of_budget(); ++i) visit(ranked[i], false);
  // 4. The head-to-head.
  decide();
  outcome_.results.assign(results_.begin(), results_.end());
  return outcome_;
}

}  // namespace

std::string candidate_identity(const Schedule& s, const Problem& p) {
  // As enumerate_schedules' de-duplication: the resolved plan and the thread count.
  try {
    return candidate_key(plan_kernel(p, s));
  } catch (const Error&) {
    return "illegal " + to_string(s);  // measured (and failing) under its own name
  }
}

std::vector<Schedule> unique_candidates(const std::vector<Schedule>& candidates, const Problem& p) {
  std::set<std::string> seen;
  std::vector<Schedule> out;
  for (const Schedule& s : candidates) {
    if (seen.insert(candidate_identity(s, p)).second) out.push_back(s);
  }
  return out;
}

TuneCandidates tune_candidates(const Problem& p, const std::vector<Isa>& isas, int threads) {
  EnumerateOptions eo;
  eo.isas = isas;
  eo.threads = threads;
  // enumerate_schedules puts the default of each ISA first; defaults of different ISAs
  // never share an identity, so they stay first.
  const std::vector<Schedule> all = unique_candidates(enumerate_schedules(p, eo), p);
  const auto defaults_end = all.begin() + static_cast<std::ptrdiff_t>(isas.size());
  TuneCandidates c;
  c.defaults.assign(all.begin(), defaults_end);
  c.ranked = rank_by_cost(std::vector<Schedule>(defaults_end, all.end()), p);
  return c;
}

std::map<std::string, TuningRecord> resumable_records(const TuningDb& db, const TuningKey& key,
                                                      const std::string& backend) {
  std::map<std::string, TuningRecord> known;
  for (const TuningRecord* r : db.find(key)) {
    if (r->backend != backend) continue;
    auto it = known.find(r->schedule);
    if (it == known.end()) {
      known.emplace(r->schedule, *r);
    } else if (r->usable() && (!it->second.usable() || r->time_us < it->second.time_us)) {
      it->second = *r;
    }
  }
  return known;
}

TuneOutcome tune_search(const TuneCandidates& candidates, const TuneTarget& target,
                        const std::map<std::string, TuningRecord>& known, const TuneBudget& budget,
                        const TuneCallbacks& callbacks, double start) {
  return Search(candidates, target, known, budget, callbacks, start).run();
}

}  // namespace convjit::detail

// raised/cleared with hysteresis: raised when the value reaches the threshold, cleared only when
// it falls below threshold - margin, so a value hovering at the line does not flap.
#pragma once

#include <optional>

namespace octolaunch::sources {

enum class Transition { none, raised, cleared };

class ThresholdState final {
 public:
  ThresholdState(double threshold, double clearMargin)
      : threshold_(threshold), margin_(clearMargin) {}
  Transition update(double value) {
    if (!raised_ && value >= threshold_) {
      raised_ = true;
      return Transition::raised;
    }
    if (raised_ && value < threshold_ - margin_) {
      raised_ = false;
      return Transition::cleared;
    }
    return Transition::none;
  }
  bool raised() const { return raised_; }
  double threshold() const { return threshold_; }

 private:
  double threshold_;
  double margin_;
  bool raised_ = false;
};

}  // namespace octolaunch::sources

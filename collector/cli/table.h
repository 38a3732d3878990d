// Aligned text tables for the CLI's human output: columns padded to their widest cell, separated
// by two spaces, the last column unpadded.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace octolaunch::cli {

class Table final {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void addRow(std::vector<std::string> cells);
  // Cells of this column are status words, painted when print() is asked to (colour.h).
  void statusColumn(std::size_t column) { statusColumn_ = column; }
  void print(std::ostream& out, bool colour = false) const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::size_t statusColumn_ = SIZE_MAX;
};

// Cuts text to at most width bytes (at a UTF-8 boundary), ending with "…" when cut; newlines
// and tabs become spaces.
std::string cell(const std::string& text, std::size_t width = 100);

}  // namespace octolaunch::cli

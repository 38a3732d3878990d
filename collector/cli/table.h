// Aligned text tables for the CLI's human output: columns padded to their widest cell, separated
// by two spaces, the last column unpadded.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace octolaunch::cli {

class Table final {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void addRow(std::vector<std::string> cells);
  void print(std::ostream& out) const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Cuts text to at most width bytes (at a UTF-8 boundary), ending with "…" when cut; newlines
// and tabs become spaces.
std::string cell(const std::string& text, std::size_t width = 100);

}  // namespace octolaunch::cli

#include "collector/cli/table.h"

#include <algorithm>

#include "collector/cli/colour.h"

namespace octolaunch::cli {

void Table::addRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

namespace {
// Display width: counts UTF-8 code points, not bytes.
std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}
}  // namespace

void Table::print(std::ostream& out, bool colour) const {
  std::vector<std::size_t> widths(headers_.size());
  for (std::size_t c = 0; c < headers_.size(); ++c) {
    widths[c] = width(headers_[c]);
    for (const auto& row : rows_) widths[c] = std::max(widths[c], width(row[c]));
  }
  auto line = [&](const std::vector<std::string>& cells, bool paint) {
    std::string text;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      text += paint && c == statusColumn_ ? paintStatus(cells[c], true) : cells[c];
      if (c + 1 < cells.size()) text.append(widths[c] - width(cells[c]) + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << '\n';
  };
  line(headers_, false);
  for (const auto& row : rows_) line(row, colour);
}

std::string cell(const std::string& text, std::size_t maxBytes) {
  std::string out;
  out.reserve(std::min(text.size(), maxBytes));
  for (char c : text) out.push_back(c == '\n' || c == '\t' || c == '\r' ? ' ' : c);
  if (out.size() <= maxBytes) return out;
  std::size_t cut = maxBytes;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;
  out.resize(cut);
  return out + "…";
}

}  // namespace octolaunch::cli

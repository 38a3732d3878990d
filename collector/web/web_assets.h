// The web UI's files, compiled into the collector at build time (embed_web_assets.cmake writes the
// definitions from the files of this folder). Everything here is static storage: the views stay
// valid for the life of the process and may be read from any thread.
#pragma once

#include <span>
#include <string_view>

namespace octolaunch::web {

struct WebAsset {
  std::string_view path;         // "/assets/app.<16 hex digits of its SHA-256>.js"
  std::string_view contentType;  // e.g. "text/javascript; charset=utf-8"
  std::string_view body;
};

// The scripts and style sheets. A path changes whenever the content does, so a browser may cache
// an asset for ever.
std::span<const WebAsset> webAssets();

// The HTML shell of every page (path "/"): index.html naming the assets by their hashed paths.
// It holds no data; the scripts read the JSON API.
WebAsset webShell();

}  // namespace octolaunch::web

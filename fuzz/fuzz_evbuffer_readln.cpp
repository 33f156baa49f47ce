// Fuzz target: evbuffer_readln, every EVBUFFER_EOL_* style, on arbitrary
// content split into chunks at arbitrary points (evbuffer_add, _add_reference,
// _add_buffer, _reserve_space/_commit_space, _prepend, a drained prefix).
// Each line taken is checked against libevent 2.1.12's behaviour on the
// same bytes as a flat string (fuzz_support.hpp's model): the line, its
// length, what stays buffered.
//
// Input: a split plan (see fuzz::Plan), then a byte choosing the styles
// (bits 0-2: the first style; bit 3: a new style from each next byte of the
// line choices; bit 4: n_read_out NULL), then 16 style choices, then the
// content.
#include "fuzz_support.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Reader in(data, size);
  const fuzz::Plan plan = fuzz::Plan::read(in);
  const std::uint8_t mode = in.byte();
  std::uint8_t choices[16];
  for (auto& c : choices)
    c = in.byte();
  std::string content = in.rest();
  if (content.size() > fuzz::kMaxContent)
    content.resize(fuzz::kMaxContent);
  // The buffer may reference `content` (evbuffer_add_reference): it stays
  // unchanged until the buffer is freed; the model is a copy.
  evbuffer* buf = fuzz::build(content, plan);
  std::string model = content;
  fuzz::check(fuzz::contents(buf) == model, "built content");

  for (unsigned i = 0;; ++i) {
    const unsigned pick = (mode & 8) ? choices[i % 16] : mode;
    const evbuffer_eol_style style = fuzz::kStyles[pick % 5];
    std::size_t eol_len = 0;
    const std::size_t at = fuzz::ref_find_eol(model, 0, style, &eol_len);
    std::size_t n = 12345;
    char* line = evbuffer_readln(buf, (mode & 16) ? nullptr : &n, style);
    if (at == std::string::npos) {
      fuzz::check(line == nullptr, "readln found a line the model does not", style);
      if (!(mode & 16))
        fuzz::check(n == 0, "n_read_out not 0 without a line", static_cast<long>(n));
      fuzz::check(evbuffer_get_length(buf) == model.size(), "readln without a line changed the buffer");
      break;
    }
    fuzz::check(line != nullptr, "readln missed a line", style, static_cast<long>(at));
    if (!(mode & 16))
      fuzz::check(n == at, "readln line length", static_cast<long>(n), static_cast<long>(at));
    fuzz::check(std::memcmp(line, model.data(), at) == 0, "readln line bytes", style);
    fuzz::check(line[at] == '\0', "readln line not NUL-terminated");
    std::free(line);
    model.erase(0, at + eol_len);
    fuzz::check(evbuffer_get_length(buf) == model.size(), "readln drained the wrong count",
                static_cast<long>(evbuffer_get_length(buf)), static_cast<long>(model.size()));
  }
  fuzz::check(fuzz::contents(buf) == model, "content after the lines");
  evbuffer_free(buf);
  return 0;
}

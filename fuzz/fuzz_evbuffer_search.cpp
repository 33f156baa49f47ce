// Fuzz target: evbuffer_search, _search_range, _search_eol and _ptr_set on
// arbitrary content split into chunks at arbitrary points (as in
// fuzz_evbuffer_readln). Each answer is checked against the same query on
// the content as a flat string, with libevent 2.1.12's rules: the first
// occurrence at or after start; with an end, not found unless that
// occurrence ends at or before it; an empty needle is found at start.
//
// Input: a split plan (see fuzz::Plan), a query count (byte, % 16), then per
// query 8 bytes: style, start (u16), end (u16), needle source (bit 0: from
// the content at `offset`, else `len` copies of a byte), needle length,
// offset/byte; then the content.
#include "fuzz_support.hpp"

namespace {

struct Query {
  std::uint8_t style, source, len;
  std::uint16_t start, end, offset;
};

long pos_of(std::size_t p) { return p == std::string::npos ? -1 : static_cast<long>(p); }

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Reader in(data, size);
  const fuzz::Plan plan = fuzz::Plan::read(in);
  const unsigned nq = in.byte() % 16;
  Query qs[16];
  for (unsigned i = 0; i < nq; ++i) {
    qs[i].style = in.byte();
    qs[i].start = in.u16();
    qs[i].end = in.u16();
    qs[i].source = in.byte();
    qs[i].len = in.byte();
    qs[i].offset = in.u16();
  }
  std::string model = in.rest();
  if (model.size() > fuzz::kMaxContent)
    model.resize(fuzz::kMaxContent);
  evbuffer* buf = fuzz::build(model, plan);
  const std::size_t total = model.size();

  for (unsigned i = 0; i < nq; ++i) {
    const Query& q = qs[i];
    // The needle: part of the content (so it is often found) or a run of one byte.
    std::string needle;
    const std::size_t nlen = q.len % 24;
    if ((q.source & 1) && total) {
      const std::size_t off = q.offset % total;
      needle = model.substr(off, nlen);
    } else {
      needle.assign(nlen, static_cast<char>(q.offset & 0xff));
    }
    // Positions up to 2 past the end: those must be refused.
    const std::size_t start = q.start % (total + 3);
    const std::size_t end = q.end % (total + 3);

    evbuffer_ptr sp;
    const int rs = evbuffer_ptr_set(buf, &sp, start, EVBUFFER_PTR_SET);
    if (start > total) {
      fuzz::check(rs == -1, "ptr_set past the end accepted", static_cast<long>(start));
      fuzz::check(sp.pos == -1, "ptr_set past the end: pos not -1");
      continue;
    }
    fuzz::check(rs == 0 && sp.pos == static_cast<ev_ssize_t>(start), "ptr_set", rs, static_cast<long>(sp.pos));

    // evbuffer_search, from start and from the beginning.
    const std::size_t want = needle.empty() ? start : model.find(needle, start);
    const evbuffer_ptr r = evbuffer_search(buf, needle.data(), needle.size(), &sp);
    fuzz::check(r.pos == pos_of(want), "search", static_cast<long>(r.pos), pos_of(want));
    const std::size_t want0 = needle.empty() ? 0 : model.find(needle);
    const evbuffer_ptr r0 = evbuffer_search(buf, needle.data(), needle.size(), nullptr);
    fuzz::check(r0.pos == pos_of(want0), "search from the start", static_cast<long>(r0.pos), pos_of(want0));

    // evbuffer_search_range, with an end.
    if (end <= total) {
      evbuffer_ptr ep;
      fuzz::check(evbuffer_ptr_set(buf, &ep, end, EVBUFFER_PTR_SET) == 0, "ptr_set end");
      std::size_t want_r = want;
      if (!needle.empty() && want != std::string::npos && want + needle.size() > end)
        want_r = std::string::npos;
      const evbuffer_ptr rr = evbuffer_search_range(buf, needle.data(), needle.size(), &sp, &ep);
      fuzz::check(rr.pos == pos_of(want_r), "search_range", static_cast<long>(rr.pos), pos_of(want_r));
    }

    // A found position can be searched from again, one byte on.
    if (r.pos >= 0 && !needle.empty()) {
      evbuffer_ptr next = r;
      if (evbuffer_ptr_set(buf, &next, 1, EVBUFFER_PTR_ADD) == 0) {
        const std::size_t want2 = model.find(needle, static_cast<std::size_t>(r.pos) + 1);
        const evbuffer_ptr r2 = evbuffer_search(buf, needle.data(), needle.size(), &next);
        fuzz::check(r2.pos == pos_of(want2), "search again", static_cast<long>(r2.pos), pos_of(want2));
      } else {
        fuzz::check(static_cast<std::size_t>(r.pos) + 1 > total, "ptr_set ADD refused inside the buffer");
      }
    }

    // evbuffer_search_eol from start.
    const evbuffer_eol_style style = fuzz::kStyles[q.style % 5];
    std::size_t want_len = 0;
    const std::size_t want_eol = fuzz::ref_find_eol(model, start, style, &want_len);
    std::size_t eol_len = 999;
    const evbuffer_ptr re = evbuffer_search_eol(buf, &sp, &eol_len, style);
    fuzz::check(re.pos == pos_of(want_eol), "search_eol", static_cast<long>(re.pos), pos_of(want_eol));
    fuzz::check(eol_len == want_len, "search_eol length", static_cast<long>(eol_len), static_cast<long>(want_len));
  }
  fuzz::check(fuzz::contents(buf) == model, "searching changed the content");
  evbuffer_free(buf);
  return 0;
}

// Links evasio from C++ with the interop header: a base over our io_context.
#include <evasio/asio.hpp>
#include <event2/event.h>
#include <iostream>

int main() {
  boost::asio::io_context ctx;
  event_base* base = evasio::make_event_base(ctx);
  if (!base || &evasio::get_io_context(base) != &ctx)
    return 1;
  event_base_free(base);
  std::cout << "consumer ok\n";
  return 0;
}

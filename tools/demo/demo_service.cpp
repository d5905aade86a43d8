// demo_service: the smallest real program built against the public leakwatch API. It grows into
// the README's demo (a leaky service watched by leakwatch) as the runtime and tracker land.
#include <cstdio>

#include <leakwatch/leakwatch.hpp>

int main() {
  std::printf("leakwatch %s linked and running\n", lw::version_string());
  return 0;
}

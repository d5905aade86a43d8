// A downstream program that only knows the installed public headers and library.
#include <cstdio>

#include <leakwatch/leakwatch.hpp>

int main() {
  std::printf("consumer linked leakwatch %s\n", lw::version_string());
  return 0;
}

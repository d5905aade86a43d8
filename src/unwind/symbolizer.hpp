// symbolizer.hpp: turning addresses into function, file and line, for the analysis and HTTP paths.
// Thread-safe (one mutex). Allocates freely: never call it from a malloc hook or a task switch.
// Uses elfutils' libdw for DWARF line tables when debug info exists, and the ELF symbol table
// otherwise; C++ names are demangled.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace lw::unwind {

// Symbol is what one code address resolves to. Empty strings and 0 where unknown.
struct Symbol {
  std::string function;          // demangled, e.g. "app::Cache::put(int)"
  std::string file;              // source file from DWARF, absolute when known
  int line = 0;                  // source line from DWARF
  std::uintptr_t function_start = 0;  // address of the function's first byte
  std::string module;            // path of the ELF object holding the address
  std::uintptr_t module_base = 0;     // load address of that object
};

// Symbolizer caches what it has read about the process's loaded objects.
class Symbolizer {
 public:
  Symbolizer();
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // lookup() resolves a code address. Pass call sites (call_site(return_address)), not return
  // addresses, to get the line of the call.
  Symbol lookup(std::uintptr_t address);

  // refresh() re-reads the loaded objects (after dlopen). lookup() also refreshes once by itself
  // when an address falls outside every known object.
  void refresh();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// demangle() turns "_ZN3foo3barEv" into "foo::bar()"; other names come back unchanged.
std::string demangle(const char* name);

// process_symbolizer() is a process-wide instance for callers that have nowhere to keep one.
Symbolizer& process_symbolizer();

}  // namespace lw::unwind

// Symbolization runs only on the analysis/HTTP path, so it favours completeness over speed.
// libdw (elfutils) was chosen over dladdr (no file:line, misses static functions) and over
// spawning addr2line (a process per lookup, and it cannot see the live process's load addresses).
#include "src/unwind/symbolizer.hpp"

#include "src/base/self_scope.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

namespace lw::unwind {

std::string demangle(const char* name) {
  if (name == nullptr) return {};
  int status = 0;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) return name;
  std::string s(out);
  std::free(out);
  return s;
}

namespace {

// find_local_debuginfo() looks for separate debug info by build id (/usr/lib/debug/.build-id, where
// Debian's -dbgsym packages put it). It is dwfl_standard_find_debuginfo without its last step, the
// debuginfod query, which would dlopen libdebuginfod, libcurl and a TLS stack into the watched
// program (their start-up allocations then stay for good) and could go to the network.
int find_local_debuginfo(Dwfl_Module* mod, void** userdata, const char* modname, Dwarf_Addr base,
                         const char* file_name, const char* debuglink_file, GElf_Word debuglink_crc,
                         char** debuginfo_file_name) {
  return dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file, debuglink_crc,
                                      debuginfo_file_name);
}

}  // namespace

struct Symbolizer::Impl {
  std::mutex mu;
  char* debuginfo_path = nullptr;  // libdw's default search path; read by libdw only.
  Dwfl_Callbacks callbacks{};
  Dwfl* dwfl = nullptr;  // Guarded by mu.

  Impl() {
    callbacks.find_elf = dwfl_linux_proc_find_elf;
    callbacks.find_debuginfo = find_local_debuginfo;
    callbacks.debuginfo_path = &debuginfo_path;
  }
  ~Impl() { close(); }

  void close() {
    if (dwfl != nullptr) dwfl_end(dwfl);
    dwfl = nullptr;
  }

  void open() {
    close();
    dwfl = dwfl_begin(&callbacks);
    if (dwfl == nullptr) return;
    dwfl_report_begin(dwfl);
    if (dwfl_linux_proc_report(dwfl, getpid()) != 0) {
      close();
      return;
    }
    dwfl_report_end(dwfl, nullptr, nullptr);
  }

  Dwfl_Module* module_of(std::uintptr_t address) {
    if (dwfl == nullptr) open();
    Dwfl_Module* m = dwfl ? dwfl_addrmodule(dwfl, address) : nullptr;
    if (m == nullptr) {  // Maybe loaded since we last looked.
      open();
      m = dwfl ? dwfl_addrmodule(dwfl, address) : nullptr;
    }
    return m;
  }
};

Symbolizer::Symbolizer() : impl_(std::make_unique<Impl>()) {}
Symbolizer::~Symbolizer() = default;

void Symbolizer::refresh() {
  std::lock_guard lock(impl_->mu);
  impl_->open();
}

Symbol Symbolizer::lookup(std::uintptr_t address) {
  Symbol sym;
  std::lock_guard lock(impl_->mu);
  // libdw's caches (debug info, line tables: megabytes) grow inside these calls: leakwatch's own
  // memory. The strings handed back are built after the scope, in the caller's name.
  const char* module = nullptr;
  const char* function = nullptr;
  const char* file = nullptr;
  {
    base::SelfScope self;
    if (Dwfl_Module* m = impl_->module_of(address)) {
      Dwarf_Addr start = 0;
      const char* main_file = nullptr;
      const char* name = dwfl_module_info(m, nullptr, &start, nullptr, nullptr, nullptr, &main_file, nullptr);
      module = main_file ? main_file : name;
      sym.module_base = static_cast<std::uintptr_t>(start);
      GElf_Off offset = 0;
      GElf_Sym elf_sym;
      if ((function = dwfl_module_addrinfo(m, address, &offset, &elf_sym, nullptr, nullptr, nullptr)))
        sym.function_start = address - offset;
      if (Dwfl_Line* line = dwfl_module_getsrc(m, address)) {
        int lineno = 0;
        if ((file = dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr))) sym.line = lineno;
      }
    }
  }
  if (module != nullptr) sym.module = module;
  if (function != nullptr) sym.function = demangle(function);
  if (file != nullptr) sym.file = file;
  if (sym.function.empty()) {  // No ELF symbol: ask the dynamic linker.
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(address), &info) != 0) {
      if (info.dli_sname) {
        sym.function = demangle(info.dli_sname);
        sym.function_start = reinterpret_cast<std::uintptr_t>(info.dli_saddr);
      }
      if (sym.module.empty() && info.dli_fname) sym.module = info.dli_fname;
      if (sym.module_base == 0) sym.module_base = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
    }
  }
  return sym;
}

Symbolizer& process_symbolizer() {
  // Leaked on purpose: it must outlive every static destructor that might still symbolize.
  static Symbolizer* instance = new Symbolizer();
  return *instance;
}

}  // namespace lw::unwind

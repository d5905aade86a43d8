// elf_needed.hpp: the shared libraries an executable names (its DT_NEEDED entries), read from the
// file itself, and where execvp would find a program. Used by `leakwatch run` to tell a program
// that links libleakwatch.so, which must not get the preload library too (two copies of the same
// interposers in one process call each other). Reads at most a few pages; allocates.
#pragma once

#include <string>
#include <vector>

#include "leakwatch/result.hpp"

namespace lw::cli {

// find_program() is the file execvp(name) would run: `name` itself when it holds a '/', else the
// first executable `name` along $PATH; empty when there is none.
std::string find_program(const std::string& name);

// elf_needed() lists the DT_NEEDED names of the 64-bit ELF file at `path`. Error for what is not
// such a file (a script, a truncated or foreign file): the caller then treats it as linking
// nothing of ours.
Result<std::vector<std::string>> elf_needed(const std::string& path);

}  // namespace lw::cli

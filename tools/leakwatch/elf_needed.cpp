// The dynamic section is found through the program headers (PT_DYNAMIC), and the string table's
// address (DT_STRTAB, a virtual address) turned into a file offset through the PT_LOAD segment
// that holds it. Only those pieces are read (pread), each checked for a short read, so a large
// executable costs a few pages and a hostile or truncated file gives an error, never a wild read.
#include "tools/leakwatch/elf_needed.hpp"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace lw::cli {
namespace {

constexpr std::size_t kMaxName = 4096;
constexpr unsigned kMaxHeaders = 4096;

class File {
 public:
  explicit File(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  bool read(std::uint64_t offset, void* out, std::size_t n) const {
    return ::pread(fd_, out, n, static_cast<off_t>(offset)) == static_cast<ssize_t>(n);
  }
  template <typename T>
  bool read(std::uint64_t offset, T* out) const {
    return read(offset, out, sizeof(T));
  }

 private:
  int fd_;
};

}  // namespace

std::string find_program(const std::string& name) {
  if (name.empty()) return "";
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

Result<std::vector<std::string>> elf_needed(const std::string& path) {
  File file(path);
  if (!file.ok()) return make_error("cannot open " + path);
  Elf64_Ehdr eh;
  if (!file.read(0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
    return make_error(path + ": not a 64-bit ELF file");
  if (eh.e_phnum > kMaxHeaders || eh.e_phentsize < sizeof(Elf64_Phdr)) return make_error(path + ": bad program headers");
  std::uint64_t dyn_off = 0, dyn_size = 0;
  std::vector<Elf64_Phdr> loads;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (!file.read(eh.e_phoff + std::uint64_t{i} * eh.e_phentsize, &ph)) return make_error(path + ": truncated");
    if (ph.p_type == PT_DYNAMIC) dyn_off = ph.p_offset, dyn_size = ph.p_filesz;
    if (ph.p_type == PT_LOAD) loads.push_back(ph);
  }
  std::vector<std::string> needed;
  if (dyn_size == 0) return needed;  // statically linked
  std::vector<std::uint64_t> name_offsets;
  std::uint64_t strtab = 0;
  if (dyn_size > (std::uint64_t{1} << 20)) return make_error(path + ": bad dynamic section");
  for (std::uint64_t off = dyn_off; off + sizeof(Elf64_Dyn) <= dyn_off + dyn_size; off += sizeof(Elf64_Dyn)) {
    Elf64_Dyn d;
    if (!file.read(off, &d)) return make_error(path + ": truncated");
    if (d.d_tag == DT_NULL) break;
    if (d.d_tag == DT_NEEDED) name_offsets.push_back(d.d_un.d_val);
    if (d.d_tag == DT_STRTAB) strtab = d.d_un.d_ptr;
  }
  std::uint64_t strtab_off = 0;
  bool mapped = false;
  for (const Elf64_Phdr& ph : loads) {
    if (strtab >= ph.p_vaddr && strtab < ph.p_vaddr + ph.p_filesz) {
      strtab_off = strtab - ph.p_vaddr + ph.p_offset;
      mapped = true;
      break;
    }
  }
  if (!mapped) return make_error(path + ": no string table for its dynamic section");
  for (std::uint64_t n : name_offsets) {
    char name[kMaxName];
    const ssize_t got = ::pread(file.fd(), name, sizeof name, static_cast<off_t>(strtab_off + n));
    if (got <= 0) return make_error(path + ": truncated");
    needed.emplace_back(name, strnlen(name, static_cast<std::size_t>(got)));
  }
  return needed;
}

}  // namespace lw::cli

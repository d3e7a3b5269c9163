package wheelaudit

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
)

// elfInfo is what the audit reads from one ELF file.
type elfInfo struct {
	Arch     string   // platform tag architecture, e.g. "s390x"
	Soname   string   // DT_SONAME, "" when none
	Needed   []string // DT_NEEDED
	Versions []string // needed symbol versions, e.g. "GLIBC_2.34"
}

var elfMagic = []byte(elf.ELFMAG)

func isELF(head []byte) bool { return bytes.HasPrefix(head, elfMagic) }

// scanELF reads machine, DT_NEEDED, DT_SONAME and the needed symbol
// versions (SHT_GNU_verneed) of one ELF file. Corrupt input yields an
// error, never a panic (debug/elf panics are recovered as a last resort).
func scanELF(data io.ReaderAt) (info elfInfo, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt ELF: %v", r)
		}
	}()
	f, err := elf.NewFile(data)
	if err != nil {
		return elfInfo{}, fmt.Errorf("bad ELF: %w", err)
	}
	defer f.Close()
	info.Arch = elfArch(f)
	if info.Needed, info.Soname, err = dynamicNames(f); err != nil {
		return elfInfo{}, fmt.Errorf("bad ELF dynamic section: %w", err)
	}
	if info.Versions, err = versionNeeds(f); err != nil {
		return elfInfo{}, fmt.Errorf("bad ELF version needs: %w", err)
	}
	return info, nil
}

// maxVersionNeeds bounds the needed versions read from one ELF file; real
// files need a few dozen.
const maxVersionNeeds = 1 << 16

// versionNeeds reads the names in SHT_GNU_verneed (Elf_Verneed entries,
// each with vn_cnt Elf_Vernaux entries). It replaces
// elf.File.DynamicVersionNeeds, whose work on a crafted section with tiny
// vn_next/vna_next strides grows with the square of the section size, and
// it needs no symbol table.
func versionNeeds(f *elf.File) ([]string, error) {
	sec := f.SectionByType(elf.SHT_GNU_VERNEED)
	if sec == nil {
		return nil, nil
	}
	if int(sec.Link) <= 0 || int(sec.Link) >= len(f.Sections) {
		return nil, fmt.Errorf("verneed section links to string table %d of %d", sec.Link, len(f.Sections))
	}
	d, err := sec.Data()
	if err != nil {
		return nil, err
	}
	str, err := f.Sections[sec.Link].Data()
	if err != nil {
		return nil, err
	}
	bo := f.ByteOrder
	strs := stringTable{tab: str}
	var out []string
	for i := 0; i >= 0 && i+16 <= len(d); {
		if v := bo.Uint16(d[i:]); v != 1 {
			return nil, fmt.Errorf("verneed entry at %d has version %d, want 1", i, v)
		}
		cnt := int(bo.Uint16(d[i+2:]))
		aux := int(bo.Uint32(d[i+8:]))
		next := int(bo.Uint32(d[i+12:]))
		for c, j := 0, i+aux; c < cnt && j >= i && j+16 <= len(d); c++ {
			name, err := strs.at(bo.Uint32(d[j+8:]))
			if err != nil {
				return nil, fmt.Errorf("verneed entry at %d: %w", j, err)
			}
			if len(out) == maxVersionNeeds {
				return nil, fmt.Errorf("more than %d needed versions", maxVersionNeeds)
			}
			out = append(out, name)
			step := int(bo.Uint32(d[j+12:]))
			if step == 0 {
				break
			}
			j += step
		}
		if next == 0 {
			break
		}
		i += next
	}
	return out, nil
}

// maxNameLen bounds a library or version name read from a string table.
const maxNameLen = 4096

// stringTable reads NUL-terminated names, each offset copied once, so that
// many entries pointing at one long string cost no more than one.
type stringTable struct {
	tab  []byte
	seen map[uint32]string
}

func (s *stringTable) at(off uint32) (string, error) {
	if name, ok := s.seen[off]; ok {
		return name, nil
	}
	if uint64(off) >= uint64(len(s.tab)) {
		return "", fmt.Errorf("name offset %d outside the string table (%d bytes)", off, len(s.tab))
	}
	rest := s.tab[off:]
	if len(rest) > maxNameLen+1 {
		rest = rest[:maxNameLen+1]
	}
	end := bytes.IndexByte(rest, 0)
	if end < 0 {
		return "", fmt.Errorf("name at offset %d is unterminated or longer than %d bytes", off, maxNameLen)
	}
	if s.seen == nil {
		s.seen = map[uint32]string{}
	}
	name := string(rest[:end])
	s.seen[off] = name
	return name, nil
}

// dynamicNames reads DT_NEEDED (in order, unique) and DT_SONAME from the
// SHT_DYNAMIC section. It replaces elf.File.DynString, which copies a
// string per entry however often entries repeat one long string.
func dynamicNames(f *elf.File) (needed []string, soname string, err error) {
	sec := f.SectionByType(elf.SHT_DYNAMIC)
	if sec == nil {
		return nil, "", nil
	}
	if int(sec.Link) <= 0 || int(sec.Link) >= len(f.Sections) {
		return nil, "", fmt.Errorf("dynamic section links to string table %d of %d", sec.Link, len(f.Sections))
	}
	d, err := sec.Data()
	if err != nil {
		return nil, "", err
	}
	str, err := f.Sections[sec.Link].Data()
	if err != nil {
		return nil, "", err
	}
	strs := stringTable{tab: str}
	bo := f.ByteOrder
	size := 16
	if f.Class == elf.ELFCLASS32 {
		size = 8
	}
	seen := map[string]bool{}
	for i := 0; i+size <= len(d); i += size {
		var tag, val uint64
		if size == 16 {
			tag, val = bo.Uint64(d[i:]), bo.Uint64(d[i+8:])
		} else {
			tag, val = uint64(bo.Uint32(d[i:])), uint64(bo.Uint32(d[i+4:]))
		}
		if elf.DynTag(tag) == elf.DT_NULL {
			break
		}
		if elf.DynTag(tag) != elf.DT_NEEDED && elf.DynTag(tag) != elf.DT_SONAME {
			continue
		}
		if val > 0xffffffff {
			return nil, "", fmt.Errorf("entry at %d: name offset %d too large", i, val)
		}
		name, err := strs.at(uint32(val))
		if err != nil {
			return nil, "", fmt.Errorf("entry at %d: %w", i, err)
		}
		if elf.DynTag(tag) == elf.DT_SONAME {
			soname = name
		} else if !seen[name] {
			seen[name] = true
			needed = append(needed, name)
		}
	}
	return needed, soname, nil
}

// elfArch maps e_machine (and class, byte order) to the architecture names
// of platform tags.
func elfArch(f *elf.File) string {
	switch f.Machine {
	case elf.EM_X86_64:
		return "x86_64"
	case elf.EM_386:
		return "i686"
	case elf.EM_AARCH64:
		return "aarch64"
	case elf.EM_PPC64:
		if f.Data == elf.ELFDATA2LSB {
			return "ppc64le"
		}
		return "ppc64"
	case elf.EM_S390:
		if f.Class == elf.ELFCLASS64 {
			return "s390x"
		}
		return "s390"
	case elf.EM_ARM:
		return "armv7l"
	case elf.EM_RISCV:
		if f.Class == elf.ELFCLASS64 {
			return "riscv64"
		}
		return "riscv32"
	case elf.EM_LOONGARCH:
		return "loongarch64"
	}
	return "machine-" + f.Machine.String()
}

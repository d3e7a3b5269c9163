package wheelaudit

import (
	"bytes"
	"debug/elf"
	"fmt"
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
func scanELF(data []byte) (info elfInfo, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt ELF: %v", r)
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return elfInfo{}, fmt.Errorf("bad ELF: %w", err)
	}
	defer f.Close()
	info.Arch = elfArch(f)
	if info.Needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return elfInfo{}, fmt.Errorf("bad ELF dynamic section: %w", err)
	}
	sonames, err := f.DynString(elf.DT_SONAME)
	if err != nil {
		return elfInfo{}, fmt.Errorf("bad ELF dynamic section: %w", err)
	}
	if len(sonames) > 0 {
		info.Soname = sonames[0]
	}
	if f.SectionByType(elf.SHT_DYNSYM) == nil || f.SectionByType(elf.SHT_GNU_VERSYM) == nil {
		return info, nil // no versioned imports
	}
	needs, err := f.DynamicVersionNeeds()
	if err != nil {
		return elfInfo{}, fmt.Errorf("bad ELF version needs: %w", err)
	}
	for _, n := range needs {
		for _, d := range n.Needs {
			info.Versions = append(info.Versions, d.Dep)
		}
	}
	return info, nil
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

# arch.sh: architecture name mapping shared by the image scripts (sourced).
# Machine names are those of platform tags and `uname -m`.

# arch_from_platform_tag prints the machine of a platform tag:
# manylinux2014_s390x -> s390x, manylinux_2_36_x86_64 -> x86_64.
arch_from_platform_tag() {
	case $1 in
	*_x86_64) echo x86_64 ;;
	*_aarch64) echo aarch64 ;;
	*_ppc64le) echo ppc64le ;;
	*_s390x) echo s390x ;;
	*_i686) echo i686 ;;
	*) echo "${1##*_}" ;;
	esac
}

# debian_arch prints Debian's name for a machine (debootstrap --arch).
debian_arch() {
	case $1 in
	x86_64) echo amd64 ;;
	aarch64) echo arm64 ;;
	ppc64le) echo ppc64el ;;
	s390x) echo s390x ;;
	i686) echo i386 ;;
	*) return 1 ;;
	esac
}

# oci_arch prints the OCI/podman name for a machine (podman --arch).
oci_arch() {
	case $1 in
	x86_64) echo amd64 ;;
	aarch64) echo arm64 ;;
	ppc64le) echo ppc64le ;;
	s390x) echo s390x ;;
	i686) echo 386 ;;
	*) return 1 ;;
	esac
}

# qemu_name prints the qemu-user binfmt handler name for a machine.
qemu_name() {
	case $1 in
	i686) echo i386 ;;
	*) echo "$1" ;;
	esac
}

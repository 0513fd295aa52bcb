# LISA extension used by scripts/lisa-run.sh (make lisa). It is this project's code, not LISA's.
#
# Five AzureImageStandard cases (python, openssl, 64-bit, OMI, swap on the OS disk) are declared
# for the "azure" and "qemu" platforms only. LISA's own qemu platform creates the VM through
# libvirt with KVM, which the machines that run `make lisa` do not have: the guest is already
# booted (by scripts/lisa-run.sh, under TCG) and reachable over SSH, exactly what LISA's "ready"
# platform drives. This registers that same platform under the name "qemu", so that those five
# cases run against the booted guest too. Nothing else about the platform changes.
from lisa.sut_orchestrator import QEMU
from lisa.sut_orchestrator.ready import ReadyPlatform


class QemuBootedGuestPlatform(ReadyPlatform):
    @classmethod
    def type_name(cls) -> str:
        return QEMU

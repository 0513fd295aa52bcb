# Loaded by Python at start-up when scripts/lisa-run.sh (make lisa) puts this directory first on
# PYTHONPATH. It is this project's code, not LISA's.
#
# LISA imports azure.identity.WorkloadIdentityCredential (azure-identity 1.13 and later) while
# loading its Azure platform module, even when the run uses another platform. Debian 12's
# python3-azure ships an older azure-identity without it, and the import error would stop LISA
# before any test. The class is only used to log in to Azure, which a run against a booted QEMU
# guest never does: supply a stand-in that refuses to be used, and leave LISA's source untouched.
try:
    import azure.identity as _identity

    if not hasattr(_identity, "WorkloadIdentityCredential"):

        class WorkloadIdentityCredential:  # noqa: D101
            def __init__(self, *args, **kwargs):
                raise RuntimeError(
                    "WorkloadIdentityCredential is not available: make lisa runs against a "
                    "local guest and never logs in to Azure"
                )

        _identity.WorkloadIdentityCredential = WorkloadIdentityCredential
except ImportError:
    pass

"""Build macros shared by every package of geo."""

load("@rules_cc//cc:defs.bzl", "cc_test")

def geo_cc_test(name, **kwargs):
    """A cc_test linked statically.

    Static, so that //tests:tsan_suppressions' strong
    __tsan_default_suppressions (linked through //third_party:absl) lands in
    the executable, where TSan looks for it: in a shared library the TSan
    runtime's weak default wins and the suppressions are ignored.

    Args:
      name: the test's name.
      **kwargs: everything else cc_test takes, except linkstatic.
    """
    if "linkstatic" in kwargs:
        fail("geo_cc_test links statically; do not set linkstatic")
    cc_test(name = name, linkstatic = True, **kwargs)

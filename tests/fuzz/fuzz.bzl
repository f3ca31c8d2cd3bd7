"""geo_fuzz_target: one libFuzzer target that is also a corpus regression test.

Under --config=fuzz (--define=fuzz=1) the binary links libFuzzer, which
provides main(); `make fuzz` (tools/fuzz.sh) runs it. In every other build it
links :corpus_driver instead, whose main() feeds each committed corpus file to
LLVMFuzzerTestOneInput once, so `bazel test //...` (and --config=asan/tsan)
replays every seed and every crash input ever found.
"""

load("@rules_cc//cc:defs.bzl", "cc_test")

def geo_fuzz_target(name, srcs, deps = [], data = [], extra_corpus_dirs = [], size = "small", timeout = None):
    """A fuzz target that replays its corpus as a test.

    Args:
      extra_corpus_dirs: more seed directories, as runfiles paths of `data`
        (e.g. MaxMind's test databases from Debian, which must not be copied
        into the repository).
    """
    corpus = "corpus/" + name
    cc_test(
        name = name,
        size = size,
        timeout = timeout,
        srcs = srcs,
        # The corpus grows with every crash found; a glob keeps the BUILD file
        # from having to list each input.
        data = native.glob([corpus + "/**"]) + data,
        # -runs=0: libFuzzer executes the corpus once and exits (the corpus
        # driver ignores flags), so the test means the same in both builds.
        args = ["-runs=0", "tests/fuzz/" + corpus] + extra_corpus_dirs,
        linkstatic = True,
        linkopts = select({
            "//tests/fuzz:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        deps = deps + select({
            "//tests/fuzz:fuzzing": [],
            "//conditions:default": ["//tests/fuzz:corpus_driver"],
        }),
        tags = ["fuzz_target"],
    )

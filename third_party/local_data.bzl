"""Exposes a data directory outside the source tree as a Bazel repository.

Used for test and benchmark data that `make setup` fetches from Debian and npm
into .deps/ (never committed), and for ../shared/testdata when it exists. The
repository always has a file `ROOT`; the data, when present, sits in `data/` next
to it, so a test finds it from `$(rootpath @repo//:ROOT)` and can say plainly
when an optional directory is absent.
"""

def _local_data_impl(rctx):
    workspace = rctx.path(Label("@//:WORKSPACE")).dirname
    path = rctx.attr.path
    if not path.startswith("/"):
        path = "{}/{}".format(workspace, path)
    resolved = rctx.execute(["realpath", "-e", path])
    present = resolved.return_code == 0
    if present:
        rctx.symlink(resolved.stdout.strip(), "data")
    elif rctx.attr.required:
        fail("{} is missing: run `make setup`".format(path))
    rctx.file("ROOT", "present\n" if present else "absent\n")
    rctx.file("WORKSPACE", 'workspace(name = "{}")\n'.format(rctx.name))
    rctx.file("BUILD.bazel", """package(default_visibility = ["//visibility:public"])

exports_files(["ROOT"])

filegroup(
    name = "files",
    srcs = ["ROOT"] + glob(["data/**"], exclude = ["data/**/.git/**"]),
)
""")

local_data = repository_rule(
    implementation = _local_data_impl,
    attrs = {
        "path": attr.string(mandatory = True, doc = "absolute, or relative to the workspace"),
        "required": attr.bool(default = True),
    },
    local = True,
)

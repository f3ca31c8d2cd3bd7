"""C++ code generation for .proto files with Debian's protoc and grpc_cpp_plugin.

Bazel 4's own proto rules would download protobuf's source and build protoc; here
the compiler, the gRPC plugin and the runtime are Debian packages, so a genrule
runs them and a cc_library compiles the output against the system libraries.
"""

_WELL_KNOWN_PROTOS = "/usr/include"
GOOGLEAPIS = "/usr/share/gocode/src/github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis"

def _outputs(protos, grpc):
    headers = []
    sources = []
    for proto in protos:
        stem = proto[:-len(".proto")]
        headers.append(stem + ".pb.h")
        sources.append(stem + ".pb.cc")
        if grpc:
            headers.append(stem + ".grpc.pb.h")
            sources.append(stem + ".grpc.pb.cc")
    return headers, sources

def cc_grpc_proto_library(name, protos, proto_root = None, grpc = False, deps = [], visibility = None):
    """Compiles `protos` into a cc_library named `name`.

    Args:
      name: the cc_library.
      protos: import paths of the .proto files (e.g. "geo/v1/geo.proto"). Without
        `proto_root` they are files of this package.
      proto_root: an absolute directory holding `protos` (system protos, such as
        Debian's googleapis copy), instead of this package.
      grpc: also generate gRPC service code.
      deps: cc_library targets of the protos these import.
      visibility: of the cc_library.
    """
    headers, sources = _outputs(protos, grpc)
    package = native.package_name()
    if proto_root:
        srcs = []
        root = proto_root
        inputs = " ".join(protos)
    else:
        srcs = protos
        root = package
        inputs = " ".join(protos)
    out_dir = "$(GENDIR)/" + package
    plugin = ""
    if grpc:
        plugin = (" --plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin)" +
                  " --grpc_out=" + out_dir)
    native.genrule(
        name = name + "_generate",
        srcs = srcs,
        outs = headers + sources,
        cmd = ("protoc -I{root} -I{googleapis} -I{wkt} --cpp_out={out}{plugin} " +
               "$$(for p in {inputs}; do echo {root}/$$p; done)").format(
            root = root,
            googleapis = GOOGLEAPIS,
            wkt = _WELL_KNOWN_PROTOS,
            out = out_dir,
            plugin = plugin,
            inputs = inputs,
        ),
        message = "protoc " + inputs,
    )
    system_deps = ["@system//:protobuf"]
    if grpc:
        system_deps.append("@system//:grpc")
    native.cc_library(
        name = name,
        srcs = sources,
        hdrs = headers,
        # Generated code includes its siblings by import path.
        includes = ["."],
        deps = deps + system_deps,
        visibility = visibility,
    )

"""oci_image_set: OCI images built with Debian's umoci on one shared base layer.

The base layer holds the shared libraries `ldd` resolves for all the binaries
(from this machine's Debian packages), the loader, CA certificates and a
non-root user; each image adds its binary as the entrypoint. The output is one
OCI image layout directory (`oci:<dir>:<name>` for skopeo). Timestamps are
fixed, so the same inputs give the same digests. See
docs/adr/0007-images-with-umoci.md.

OCI labels: version from the `version` attribute; revision and source from
`--define=geo_revision=...` / `--define=geo_source=...` (release builds pass the
git commit), else the attributes' defaults.
"""

def _oci_image_set_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name + ".oci")
    revision = ctx.var.get("geo_revision", ctx.attr.revision)
    source = ctx.var.get("geo_source", ctx.attr.source)
    args = [out.path, ctx.attr.version, revision, source]
    binaries = []
    for target, spec in ctx.attr.images.items():
        binary = target[DefaultInfo].files_to_run.executable
        binaries.append(binary)
        name, _, ports = spec.partition(":")
        args.append("{}={}{}".format(name, binary.path, ":" + ports if ports else ""))
    ctx.actions.run(
        executable = ctx.executable._builder,
        arguments = args,
        inputs = binaries,
        outputs = [out],
        mnemonic = "OciImageSet",
        progress_message = "Building OCI images %s with umoci" % ctx.label,
        use_default_shell_env = True,
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

oci_image_set = rule(
    implementation = _oci_image_set_impl,
    attrs = {
        "images": attr.label_keyed_string_dict(
            mandatory = True,
            cfg = "target",
            doc = "binary -> \"name[:port,port...]\"; the name is the image's tag in the layout",
        ),
        "version": attr.string(mandatory = True),
        "revision": attr.string(default = "unknown"),
        "source": attr.string(default = "unknown"),
        "_builder": attr.label(
            default = "//k8s/images:build_image_set.sh",
            executable = True,
            cfg = "exec",
            allow_single_file = True,
        ),
    },
)

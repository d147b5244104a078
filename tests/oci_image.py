"""An OCI image archive built in a guest from its busybox-static (guests reach no registry), for
`ctr images import`: one uncompressed layer with /bin/busybox and the applets' links, its config
and manifest, and index.json naming it (io.containerd.image.name)."""

BUILD_OCI = r"""
import hashlib, io, json, os, sys, tarfile, time
name, out = sys.argv[1], sys.argv[2]
layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar:
    for d in ("bin", "tmp", "etc"):
        info = tarfile.TarInfo(d); info.type = tarfile.DIRTYPE; info.mode = 0o1777 if d == "tmp" else 0o755
        tar.addfile(info)
    tar.add("/bin/busybox", "bin/busybox")
    for applet in ("sh", "cat", "echo", "ls", "sleep"):
        info = tarfile.TarInfo("bin/" + applet); info.type = tarfile.SYMTYPE; info.linkname = "busybox"
        tar.addfile(info)
blobs = {}
def blob(data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return {"digest": digest, "size": len(data)}
layer_desc = blob(layer.getvalue())
config = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
          "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]}}
config_desc = blob(json.dumps(config).encode())
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": dict(config_desc, mediaType="application/vnd.oci.image.config.v1+json"),
            "layers": [dict(layer_desc, mediaType="application/vnd.oci.image.layer.v1.tar")]}
manifest_desc = blob(json.dumps(manifest).encode())
index = {"schemaVersion": 2, "manifests": [dict(
    manifest_desc, mediaType="application/vnd.oci.image.manifest.v1+json",
    annotations={"io.containerd.image.name": name, "org.opencontainers.image.ref.name": "latest"})]}
with tarfile.open(out, "w") as tar:
    def add(path, data):
        info = tarfile.TarInfo(path); info.size = len(data); info.mtime = int(time.time())
        tar.addfile(info, io.BytesIO(data))
    add("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    add("index.json", json.dumps(index).encode())
    for digest, data in blobs.items():
        add("blobs/sha256/" + digest.split(":")[1], data)
"""


def build_oci_image(guest, name, out):
    """Build the archive at ``out`` in the guest, its image named ``name``."""
    guest.lab.run(guest.record, "python3 - %s %s" % (name, out), check=True,
                  input_text=BUILD_OCI)

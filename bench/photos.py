"""How long processing one uploaded photo takes, and how much memory: Pillow (the app's
cases/imaging.py) against pyvips (libvips) as the reference.

    .venv/bin/python bench/photos.py [--repeat N]

Makes a 12 MP and a 24 MP phone-like JPEG (EXIF orientation 6, GPS) on the fly, then
measures each case in a fresh subprocess, so the peak resident memory (Linux VmHWM,
reset after start-up; resource ru_maxrss elsewhere) grows from that case alone.
tracemalloc cannot do this: Pillow and libvips allocate pixel memory outside Python's
allocator. Times are the best of --repeat runs, wall clock and this process's CPU time
(the CPU time is the steadier figure on a busy machine; libvips may use several threads,
so its CPU time can exceed its wall time).

Three pipelines, as the app runs them:
- "upload": what the upload request does — process_photo(copies=False). For these JPEGs
  (the lossless path): read the header, rebuild the file from the camera's tables and
  compressed data with only the orientation as EXIF, decode it all at 1/8 scale to verify.
- "copies": what the background task does — make_copies(): the screen copy (1600 px)
  and thumbnail (320 px) from the stored JPEG, turned upright.
- "whole": both, one after the other: the whole processing of one photo.

"Pillow" is that path; "Pillow/re" is the same photo forced down the re-encode path
(process_photo(lossless=False): a full-size decode, turned upright, a full-size encode at
quality 92), the one PNG, WebP, HEIC, CMYK and non-sRGB JPEGs take, its copies made from
the re-encoded file.

pyvips does the same work its own way (decode, autorot, metadata stripped,
thumbnail_buffer with shrink-on-load), at the same JPEG qualities, with libvips' operation
cache off (a server sees each photo once). libvips has no way to keep a JPEG's compressed
data, so its "upload" decodes and re-encodes: the reference for "Pillow/re"; its copies
are made from the file Pillow's lossless path stored (thumbnail_buffer honours its EXIF
orientation). It is installed by the bench only
(bench/setup.sh: Debian's libvips42 and the pyvips package); without it only Pillow's
figures are printed. Targets: Pillow's copies within 1.2× pyvips' time with less peak
memory; Pillow's whole processing of a 24 MP JPEG under 350 ms and 250 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"12 MP": (4000, 3000), "24 MP": (6000, 4000)}


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smpclinic.settings_test")
    import django

    django.setup()


def make_jpeg(size: tuple[int, int], path: Path) -> None:
    """A phone-like photo: smooth gradients with sensor-like noise, orientation 6, GPS."""
    from PIL import Image

    width, height = size
    red = Image.linear_gradient("L").resize(size)
    green = Image.effect_noise((width // 3, height // 3), 48).resize(size)
    blue = Image.radial_gradient("L").resize(size)
    image = Image.merge("RGB", (red, green, blue))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 40.0)})
    exif.get_ifd(0x8769)[36867] = "2026:03:04 10:11:12"
    image.save(path, "JPEG", quality=90, exif=exif.tobytes())


PIPELINES = ("upload", "copies", "whole")
LIBRARIES = ("Pillow", "Pillow/re", "pyvips")
COPIES_VS_PYVIPS = 1.2
WHOLE_24MP_MS = 350
WHOLE_24MP_MIB = 250


def _pillow(pipeline: str, data: bytes, stored: bytes, *, lossless: bool = True) -> None:
    """The app's own functions, as the upload view and the copies task call them."""
    from cases.imaging import make_copies, process_photo

    if pipeline in ("upload", "whole"):
        stored = process_photo(io.BytesIO(data), name="bench.jpg", copies=False, lossless=lossless).image
    if pipeline in ("copies", "whole"):
        make_copies(stored)


def _pillow_reencoded(pipeline: str, data: bytes, stored: bytes) -> None:
    _pillow(pipeline, data, stored, lossless=False)


def _pyvips(pipeline: str, data: bytes, stored: bytes) -> None:
    """The same work in libvips: decode, upright, no metadata; copies with shrink-on-load."""
    import pyvips

    from cases.imaging import QUALITY, SCREEN_BOX, THUMBNAIL_BOX

    if pipeline in ("upload", "whole"):
        # Random access: turning a photo a quarter needs all its rows (sequential fails).
        image = pyvips.Image.new_from_buffer(data, "").autorot()
        stored = image.jpegsave_buffer(Q=QUALITY["image"], strip=True)
    if pipeline in ("copies", "whole"):
        screen = pyvips.Image.thumbnail_buffer(stored, SCREEN_BOX[0], height=SCREEN_BOX[1], size="down")
        screen = screen.copy_memory()  # decoded once, used for both encodings
        screen.jpegsave_buffer(Q=QUALITY["screen"], strip=True)
        thumbnail = screen.thumbnail_image(THUMBNAIL_BOX[0], height=THUMBNAIL_BOX[1], size="down")
        thumbnail.jpegsave_buffer(Q=QUALITY["thumbnail"], strip=True)


def pyvips_version() -> str | None:
    """libvips' version, or None when pyvips or libvips is not installed."""
    try:
        import pyvips

        return f"pyvips {pyvips.__version__}, libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    except (ImportError, OSError):
        return None


def _peak_rss_kib() -> int:
    """Peak resident memory of this process so far (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> None:
    """Start the high-water mark from the current size (Linux: clear_refs 5), if possible."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def measure(path: str, stored_path: str, pipeline: str, library: str, repeat: int) -> dict:
    """Run in the subprocess: best wall and CPU time of `repeat` runs, peak memory growth."""
    _django()
    if library == "pyvips":
        import pyvips

        pyvips.cache_set_max(0)
    run = {"Pillow": _pillow, "Pillow/re": _pillow_reencoded, "pyvips": _pyvips}[library]
    data, stored = Path(path).read_bytes(), Path(stored_path).read_bytes()
    _reset_peak()
    baseline_kib = _peak_rss_kib()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run(pipeline, data, stored)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {
        "wall_ms": min(walls) * 1000,
        "cpu_ms": min(cpus) * 1000,
        "peak_mib": (_peak_rss_kib() - baseline_kib) / 1024,
    }


def _in_subprocess(path: Path, stored: Path, pipeline: str, library: str, repeat: int) -> dict:
    command = [
        sys.executable,
        __file__,
        "--repeat",
        str(repeat),
        "--measure",
        str(path),
        str(stored),
        pipeline,
        library,
    ]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def _verdict(label: str, pipeline: str, library: str, results: dict) -> str:
    """Whether Pillow's row meets its target (pyvips' rows are the reference)."""
    mine, reference = results[library], results.get("pyvips")
    if library == "pyvips":
        return "reference"
    if library != "Pillow":
        return "re-encode path (PNG, WebP, HEIC, CMYK…)" if pipeline == "whole" and label == "24 MP" else ""
    if pipeline == "copies" and reference:
        ratio = mine["wall_ms"] / reference["wall_ms"]
        less = mine["peak_mib"] < reference["peak_mib"]
        ok = ratio <= COPIES_VS_PYVIPS and less
        verdict = f"{ratio:.2f}× pyvips' time, {'less' if less else 'MORE'} memory"
        return verdict if ok else f"{verdict}: OVER (≤ {COPIES_VS_PYVIPS}× with less memory)"
    if pipeline == "whole" and label == "24 MP":
        ok = mine["wall_ms"] < WHOLE_24MP_MS and mine["peak_mib"] < WHOLE_24MP_MIB
        return "ok" if ok else f"OVER (< {WHOLE_24MP_MS} ms and < {WHOLE_24MP_MIB} MiB)"
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure", nargs=4, metavar=("PATH", "STORED", "PIPELINE", "LIBRARY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        path, stored, pipeline, library = args.measure
        print(json.dumps(measure(path, stored, pipeline, library, args.repeat)))
        return

    _django()
    import PIL

    from cases.imaging import process_photo

    vips = pyvips_version()
    libraries = LIBRARIES if vips else LIBRARIES[:2]
    print(f"Pillow {PIL.__version__}, {vips or 'pyvips not installed (bash bench/setup.sh): Pillow only'}")
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; best of {args.repeat}")
    print(f"{'photo':<7} {'pipeline':<8} {'library':<9} {'wall ms':>8} {'CPU ms':>7} {'peak MiB':>9}  target")
    with tempfile.TemporaryDirectory() as folder:
        for label, size in SIZES.items():
            path = Path(folder) / f"{label.replace(' ', '')}.jpg"
            make_jpeg(size, path)
            stored = {library: path.with_suffix(f".stored-{n}.jpg") for n, library in enumerate(libraries)}
            for library, stored_path in stored.items():
                lossless = library != "Pillow/re"
                processed = process_photo(path.read_bytes(), name="bench.jpg", copies=False, lossless=lossless)
                stored_path.write_bytes(processed.image)
            print(f"{label:<7} {size[0]}×{size[1]} JPEG, {path.stat().st_size / 2**20:.1f} MiB")
            for pipeline in PIPELINES:
                results = {lib: _in_subprocess(path, stored[lib], pipeline, lib, args.repeat) for lib in libraries}
                for library, result in results.items():
                    print(
                        f"{'':<7} {pipeline:<8} {library:<9} {result['wall_ms']:>8.0f} {result['cpu_ms']:>7.0f} "
                        f"{result['peak_mib']:>9.0f}  {_verdict(label, pipeline, library, results)}"
                    )


if __name__ == "__main__":
    main()

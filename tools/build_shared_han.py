"""Build cleankit/text/data/shared_han.tsv: the characters simplified and traditional writing share.

OpenCC's simplified-to-traditional character table (``STCharacters``) lists, for each simplified
character, the traditional characters it may stand for. Where the character is one of its own
candidates (准 → 準 准, 云 → 雲 云, 表 → 表 錶, 后 → 後 后, 台 → 臺 檯 颱 台), traditional writing
uses it too, with its own meaning (核准, 云云, 附表, 皇后, 台灣): on a page already written in
traditional characters, converting it again would replace the writer's character with another
word's (核準, 雲雲, 附錶, 皇後). One ``character<TAB>candidates`` line per such character.

The table is read with the ``opencc_dict`` tool that the OpenCC wheel ships (the Python API
converts text; it does not list candidates)::

    python tools/build_shared_han.py
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import opencc

OUT = Path(__file__).resolve().parent.parent / "cleankit" / "text" / "data" / "shared_han.tsv"


def read_st_characters() -> list[tuple[str, list[str]]]:
    """OpenCC's STCharacters table as (simplified character, traditional candidates)."""
    clib = Path(opencc.__file__).parent / "clib"
    tool, table = clib / "bin" / "opencc_dict", clib / "share" / "opencc" / "STCharacters.ocd2"
    with tempfile.TemporaryDirectory() as scratch:
        text = Path(scratch) / "STCharacters.txt"
        subprocess.run([str(tool), "-i", str(table), "-o", str(text), "-f", "ocd2", "-t", "text"], check=True)
        rows = []
        for line in text.read_text(encoding="utf-8").splitlines():
            key, _, values = line.partition("\t")
            rows.append((key, values.split(" ")))
    return rows


def shared(rows: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    return [(key, values) for key, values in rows if len(key) == 1 and key in values and values != [key]]


def main() -> None:
    found = shared(read_st_characters())
    version = getattr(opencc, "__version__", "?")
    header = f"# characters among their own candidates in OpenCC {version} STCharacters (tools/build_shared_han.py)\n"
    OUT.write_text(header + "".join(f"{key}\t{' '.join(values)}\n" for key, values in found), encoding="utf-8")
    print(f"{len(found)} characters -> {OUT}")


if __name__ == "__main__":
    main()

"""Coverage-guided fuzzing of the whole pipeline with atheris (run by hand, never in the suite).

Each input is a file's bytes: decoded, cleaned by every default stage under a time budget,
restored to the bytes. Anything but an InputError (which fails one document with a reason),
or a restore that does not give the bytes back, is a crash that atheris saves as
``crash-<hash>`` in the current folder, to replay with ``python tools/fuzz_atheris.py crash-<hash>``.

    pip install -e '.[fuzz]'
    python tools/fuzz_atheris.py -atheris_runs=20000 -max_len=4096      # a bounded run
    python tools/fuzz_atheris.py -max_total_time=3600 corpus/           # an hour, corpus kept

The hypothesis suite (tests/test_hostile_inputs.py) covers the named hostile shapes; this
explores the branches of the decoder and the stages that no one thought of.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from cleankit import InputError, Pipeline, Settings
    from cleankit.core.provenance import build_record, restore_bytes_from_record

PIPELINE = Pipeline.from_settings(Settings(document_seconds=30))


def one_input(raw: bytes) -> None:
    try:
        document = PIPELINE.clean_bytes(raw)
    except InputError:
        return
    record = build_record(document, "fuzz", None)
    if restore_bytes_from_record(document.text, record) != raw:
        raise AssertionError(f"restore --bytes differs for {raw[:80]!r}")


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

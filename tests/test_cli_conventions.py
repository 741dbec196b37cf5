"""Conventions of the command line (issue 15), through the real command: one-line errors with
exit code 2, colour only as --color and NO_COLOR say, no wrapping in pipes, --json where a
machine reads the result, settings found as ruff finds its own, words as help placeholders.

A terminal, a pipe's width and what a process imports are run in processes of their own; the
rest by ``cleankit.cli.main`` in the test's process (``run_cli_here``: the same arguments,
streams, working folder and exit code, without a new interpreter's start-up each time).
``test_cli.py`` keeps a usage error's exit code 2 through a real process."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLES, run_cli, run_cli_here

# Select Graphic Rendition: colour, bold, strike-through (cursor control for a progress bar is not a style).
STYLE = re.compile(rb"\x1b\[[0-9;]*m")
PAGE = "各市、县人民政府:现将规划印发给你们,请认真贯彻执行。\n"


def on_terminal(*args: str, env: dict[str, str] | None = None) -> bytes:
    """Run the command with its standard output and error on a pseudo-terminal."""
    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environment.update({"TERM": "xterm-256color", "COLUMNS": "120"}, **(env or {}))
    process = subprocess.Popen(
        [sys.executable, "-m", "cleankit", *args], stdout=follower, stderr=follower, env=environment
    )
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=120)
    os.close(leader)
    return output


MISTAKES = [
    ("settings", '[stage.boilerplate]\ndisable = ["no-such-rule"]\n', "no rule with id"),
    ("settings", "[stage.hygiene]\nnfd = true\n", "[stage.hygiene] unknown option 'nfd'"),
    ("settings", '[stage.hygiene]\nnfc = "yes"\n', "[stage.hygiene] nfc must be bool, not str"),
    ("settings", '[stage.script]\nto = "klingon"\n', "[stage.script]"),
    ("settings", "[clean]\nmax_bites = 1\n", "unknown setting 'max_bites'"),
    ("settings", "[clean]\njobs = 2\n[stages.hygiene]\nnfc = false\n", "unknown table or key 'stages'"),
    ("settings", "[clean\n", "not valid TOML"),
    ("settings", "[stage.nonsense]\nx = 1\n", "unknown stage 'nonsense'"),
    ("flags", "--encoding foo", "encoding 'foo' is not an encoding"),
    ("flags", "--to klingon", "--to 'klingon'"),
    ("flags", "--skip nonsense", "unknown stage 'nonsense'"),
    ("flags", "-j abc", "--jobs"),
    ("flags", "--bogus", "No such option: --bogus"),
    ("flags", "--rules no-such-folder", "no-such-folder"),
]


@pytest.mark.parametrize(("kind", "mistake", "said"), MISTAKES)
def test_every_mistake_is_one_line_and_exit_2(tmp_path: Path, kind: str, mistake: str, said: str) -> None:
    args = ["clean", str(SAMPLES), "-o", str(tmp_path / "out")]
    if kind == "settings":
        (tmp_path / "cleankit.toml").write_text(mistake)
    else:
        args += mistake.split()
    result = run_cli_here(*args, cwd=tmp_path)
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert err.count("\n") == 1 and err.startswith("cleankit: error: ") and said in err, err
    assert not (tmp_path / "out").exists(), "nothing runs, so no file fails one by one"


def test_audit_and_restore_on_a_folder_without_provenance_say_so_alike(tmp_path: Path) -> None:
    for args in (["restore", str(tmp_path), "a.txt"], ["diff", str(tmp_path)], ["stats", str(tmp_path)]):
        result = run_cli_here(*args)
        err = result.stderr.decode()
        assert result.returncode == 2 and err.count("\n") == 1, (args, err)
        assert f"{tmp_path}: no provenance.jsonl here; is this the output folder of `cleankit clean`?" in err


def test_color_follows_the_flag_and_no_color(samples_out: Path) -> None:
    view = ["diff", str(samples_out), "001_e11f24d6c84acc9d.txt", "--inline"]
    assert STYLE.search(on_terminal(*view)), "a terminal gets colour by default"
    plain = on_terminal(*view, env={"NO_COLOR": "1"})
    assert not STYLE.search(plain), "NO_COLOR: no colour, no bold, no strike-through"
    assert b"[-" in plain and b"-]" in plain, "without styles removals are marked in text"
    assert not STYLE.search(on_terminal(*view, "--color", "never"))
    piped = run_cli_here(*view, "--color", "always")
    assert STYLE.search(piped.stdout), "--color always styles a pipe too"
    assert not STYLE.search(run_cli_here("stats", str(samples_out), "--color", "auto").stdout)
    summary = on_terminal("clean", str(SAMPLES), "-o", str(samples_out), "--color", "never")
    assert b"skipped 5 already done" in summary and not STYLE.search(summary)


def test_output_to_a_pipe_is_not_wrapped(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    result = subprocess.run(
        [sys.executable, "-m", "cleankit", "clean", str(SAMPLES), "-o", str(tmp_path / "out")],
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stderr.decode().splitlines()
    summary = next(line for line in lines if line.startswith("cleaned 5 document(s)"))
    assert re.search(r"\(\d+\.\d MB/s\) -> ", summary), summary
    assert any(len(line) > 80 for line in lines)
    rows = [line for line in lines if line.startswith("│ ")]
    assert any("│ boilerplate/breadcrumb-location │" in row for row in rows), "rule names stay whole"


def test_verbose_says_which_settings_and_each_file(tmp_path: Path) -> None:
    (tmp_path / "cleankit.toml").write_text('[clean]\nexclude = ["004_*"]\n')
    result = run_cli_here("clean", str(SAMPLES), "-o", str(tmp_path / "out"), "-v", cwd=tmp_path)
    err = result.stderr.decode()
    assert result.returncode == 0, err
    assert f"note: settings: {tmp_path / 'cleankit.toml'}" in err
    assert "cleaned 000_ad233eb0e25883aa.txt" in err and "004_" not in err.split("cleaned 4 document(s)")[0]
    quiet = run_cli_here("clean", str(SAMPLES), "-o", str(tmp_path / "out"), "-q", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == b""


def test_json_where_a_machine_reads_the_result(tmp_path: Path, samples_out: Path) -> None:
    clean = run_cli_here("clean", str(SAMPLES), "-o", str(tmp_path / "out"), "--json")
    assert clean.returncode == 0, clean.stderr.decode()
    summary = json.loads(clean.stdout)
    assert summary["documents"] == 5 and summary["failed"] == 0 and summary["outdir"] == str(tmp_path / "out")
    assert b"what each stage changed" not in clean.stderr
    rules = [json.loads(line) for line in run_cli_here("rules", "list", "--json").stdout.splitlines()]
    assert {"id", "family", "zone", "action", "pack", "description"} <= set(rules[0])
    assert any(rule["id"] == "qr-caption" for rule in rules)
    tested = json.loads(run_cli_here("rules", "test", str(SAMPLES / "001_e11f24d6c84acc9d.txt"), "--json").stdout)
    assert tested["removed"] == sum(v["remove"] for v in tested["verdicts"]) > 0 and "metadata" in tested
    diff = run_cli_here("diff", str(samples_out), "--json")
    documents = [json.loads(line) for line in diff.stdout.splitlines()]
    assert len(documents) == 5
    changes = [c for d in documents for c in d["changes"]]
    assert {"original", "clean", "old", "new", "labels", "layout"} <= set(changes[0])
    assert any(c["layout"] for c in changes) and any(not c["layout"] for c in changes)
    assert all(set(c["old"] + c["new"]) <= {"\n", "\r"} for c in changes if c["layout"])
    stdout_run = run_cli_here("clean", "-", "--json", stdin=PAGE.encode())
    assert stdout_run.returncode == 2 and b"give -o OUTDIR" in stdout_run.stderr


def test_settings_are_found_upward_as_ruff_finds_its_own(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "docs" / "deep").mkdir(parents=True)
    (project / "cleankit.toml").write_text('[stage.script]\nto = "tw"\n')
    deep = project / "docs" / "deep"
    assert run_cli_here("clean", "-", stdin="发展\n".encode(), cwd=deep).stdout.decode() == "發展\n"
    # A pyproject.toml without [tool.cleankit] is passed over; one with it is used.
    (project / "docs" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert run_cli_here("clean", "-", stdin="发展\n".encode(), cwd=deep).stdout.decode() == "發展\n"
    (project / "docs" / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.cleankit.stage.script]\nto = "keep"\n'
    )
    assert run_cli_here("clean", "-", stdin="發展\n".encode(), cwd=deep).stdout.decode() == "發展\n"
    shown = run_cli_here("config", cwd=deep)
    assert shown.stdout.decode().startswith(f"settings: {project / 'docs' / 'pyproject.toml'}")


def test_config_show_prints_every_setting_with_stage_defaults(tmp_path: Path) -> None:
    (tmp_path / "cleankit.toml").write_text("[stage.punctuation]\nnfkc = true\n")
    # A process of its own: --show lists every registered stage, and test modules register
    # stages of their own in the test's process.
    result = run_cli("config", "--show", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    for table in ("[clean]", "[stage.hygiene]", "[stage.mojibake]", "[stage.boilerplate]", "[stage.repeats]"):
        assert table in text, table
    assert "nfkc = true" in text and "byte_shift = true" in text and "min_chars = 10" in text
    assert f"settings: {tmp_path / 'cleankit.toml'}" in result.stderr.decode()
    again = tmp_path / "again.toml"
    again.write_text(text)
    assert run_cli("config", "--show", "--config", str(again)).stdout.decode() == text


def test_help_placeholders_are_words() -> None:
    commands = [["clean"], ["restore"], ["detect"], ["config"], ["diff"], ["stats"], ["report"]]
    commands += [["rules", "list"], ["rules", "test"], ["index", "stats"], ["index", "prune"]]
    for command in commands:
        result = run_cli_here(*command, "--help")
        text = result.stdout.decode()
        assert result.returncode == 0, command
        assert not re.search(r"<(list\[|str>|int>|path>|float>)|\{\w+\}", text), (command, text)
        assert "--color WHEN" in text, command
    assert "INPUT..." in run_cli_here("clean", "--help").stdout.decode()


def typer_parameters() -> list[tuple[str, object, object]]:
    """Every Typer parameter of every command (and the groups' own, and each one's --help),
    with its command path and a context of its command."""
    import typer.main
    from typer._click import Context

    from cleankit.cli import load_app

    found: list[tuple[str, object, object]] = []

    def walk(command: object, path: str) -> None:
        context = Context(command)  # type: ignore[arg-type]
        for param in [*getattr(command, "params", []), command.get_help_option(context)]:  # type: ignore[attr-defined]
            found.append((f"{path} {param.name}", param, context))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(typer.main.get_command(load_app()), "cleankit")
    return found


def help_texts(command: object, path: list[str], parent: object = None) -> dict[str, str]:
    """The help of ``command`` and of each of its subcommands, by command path."""
    from typer._click import Context

    context = Context(command, info_name=path[-1], parent=parent)  # type: ignore[arg-type]
    texts = {" ".join(path): command.get_help(context)}  # type: ignore[attr-defined]
    for name, sub in getattr(command, "commands", {}).items():
        texts.update(help_texts(sub, [*path, name], context))
    return texts


def test_a_command_built_alone_is_that_command_of_the_whole_app() -> None:
    """`cleankit NAME ...` builds NAME's click command alone (`command_alone`: its module
    alone imported); its parameters, help and subcommands are those NAME has in the whole
    app, and every command of the whole app is found by its name."""
    import typer.main

    from cleankit.cli import COMMAND_MODULE, command_alone, load_app

    whole = typer.main.get_command(load_app())
    assert sorted(whole.commands) == sorted(COMMAND_MODULE)  # type: ignore[attr-defined]
    for name, command in whole.commands.items():  # type: ignore[attr-defined]
        callbacks = [command.callback, *(sub.callback for sub in getattr(command, "commands", {}).values())]
        assert {f.__module__ for f in callbacks if f is not None} == {f"cleankit.cli.{COMMAND_MODULE[name]}"}, name
        alone_app = command_alone(name)
        assert alone_app is not None, name
        alone = typer.main.get_command(alone_app)
        assert list(alone.commands) == [name]  # type: ignore[attr-defined]
        assert [p.name for p in alone.params] == [p.name for p in whole.params]
        texts = help_texts(alone.commands[name], ["cleankit", name])  # type: ignore[attr-defined]
        assert texts == help_texts(command, ["cleankit", name]), name
        assert len(texts) >= 1
    assert command_alone("clen") is None and command_alone("--help") is None


def test_commands_are_listed_in_one_order_whichever_was_built_first() -> None:
    """A process that ran one command (its module imported first) and then builds the whole
    app lists the commands as a fresh one does."""
    script = (
        "import sys, typer.main\n"
        "from cleankit.cli import command_alone, load_app\n"
        "for name in sys.argv[1:]:\n"
        "    command_alone(name)\n"
        "print(list(typer.main.get_command(load_app()).commands))\n"
    )
    fresh = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True).stdout
    first = ["index", "stats", "rules", "clean"]
    later = subprocess.run([sys.executable, "-c", script, *first], capture_output=True, check=True)
    assert later.stdout == fresh
    listed = "['clean', 'restore', 'detect', 'config', 'diff', 'stats', 'report', 'rules', 'index']"
    assert fresh.decode().startswith(listed)


PLAIN_LINES = [
    "note: provenance not kept: give --provenance FILE, or -o OUTDIR to clean into a folder",
    "",
    "  spaces around  ",
    "standard input cleaned to 输出/关于印发《通知》的通知.txt",
    "[red]not markup[/red] :smile: [link=x]y[/link]",
    "wide 全角ＡＢＣ，emoji 😀🇨🇳, combining e\u0301, zero width a\u200bb",
    "x" * 250_000,
    "a\tb",
    "two\nlines",
    "cr\rbell\x07",
    "nbsp\xa0and\u2028",
]


@pytest.mark.parametrize("color", ["auto", "never"])
def test_a_plain_line_is_what_the_rich_console_prints(color: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Notes and warnings on a stream that is not a terminal skip rich (its import is ~40 ms
    of one page through `clean -`); what they print is what rich's console prints."""
    import io

    from cleankit.cli.common import Consoles, note, warn

    for line in PLAIN_LINES:
        for stderr in (True, False):
            written: list[str] = []
            for use_rich in (False, True):
                stream = io.StringIO()
                monkeypatch.setattr(sys, "stderr" if stderr else "stdout", stream)
                consoles = Consoles()
                consoles.set_color(color)
                if use_rich:
                    (consoles.err if stderr else consoles.out).print(line)
                else:
                    consoles.say(line, stderr=stderr)
                written.append(stream.getvalue())
            assert written[0] == written[1], (line[:80], stderr)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.setattr("cleankit.cli.common.consoles", Consoles())
    note("a 文件")
    warn("b\tc")
    warn("d")
    assert stream.getvalue() == "note: a 文件\nwarning: b      c\nwarning: d\n"


PLAIN_VALUES = [None, "", "x", " a b ", "\udcff", "１２", "-", "3", ["a", "b"], ("-",), (), ("1", "2"), 7, True]


def coerced(runtime: object, value: object, param: object, context: object) -> tuple[str, object]:
    """What coercing ``value`` gives (a value and its type), or the error it raises."""
    from typer._click.exceptions import BadParameter

    try:
        out = runtime.coerce(value, param=param, ctx=context)  # type: ignore[attr-defined]
    except BadParameter as exc:
        return "error", (type(exc).__name__, str(exc))
    return "value", (type(out).__name__, out)


def test_values_coerced_without_pydantic_are_what_typer_gives() -> None:
    """cleankit answers absent values, strings and lists of strings itself (no pydantic import
    for one page through `clean -`); for every parameter of every command and each value,
    the answer is Typer's own coercion's, and the parameters that have a shortcut are many."""
    from typer._coercion import build_runtime_param

    from cleankit.cli import PlainValues, plain_values_kind

    kinds: dict[str, int] = {}
    answers: set[str] = set()
    for path, param, context in typer_parameters():
        kind = plain_values_kind(param)
        assert kind is not None, path
        kinds[kind] = kinds.get(kind, 0) + 1
        shortcut, typer_own = PlainValues(kind), build_runtime_param(param.type_descriptor)  # type: ignore[attr-defined]
        for value in PLAIN_VALUES:
            param._runtime_param = None  # type: ignore[attr-defined]
            answer = coerced(shortcut, value, param, context)
            assert answer == coerced(typer_own, value, param, context), (path, value)
            answers.add(answer[0])
    assert kinds["str"] >= 20 and kinds["list[str]"] >= 5 and kinds["other"] >= 50, kinds
    assert answers == {"value", "error"}


def test_a_typer_without_its_private_coercion_builder_is_left_to_coerce_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """PlainValues hands values it does not answer to ``typer._coercion.build_runtime_param``,
    a private name: a Typer that moves it keeps every parameter as Typer made it."""
    import typer._coercion
    import typer.main

    from cleankit.cli import PlainValues, coerce_plain_values_directly, load_app

    def shortcuts(command: Any) -> int:
        own = sum(isinstance(getattr(p, "_runtime_param", None), PlainValues) for p in getattr(command, "params", []))
        return own + sum(shortcuts(sub) for sub in getattr(command, "commands", {}).values())

    command = typer.main.get_command(load_app())
    monkeypatch.delattr(typer._coercion, "build_runtime_param")
    coerce_plain_values_directly(command)
    assert shortcuts(command) == 0
    monkeypatch.undo()
    coerce_plain_values_directly(command)
    assert shortcuts(command) >= 25


def test_cleaning_one_page_from_stdin_imports_no_pydantic_scipy_or_datasketch(tmp_path: Path) -> None:
    """What made one page through `cleankit clean -` slow to start: Typer's pydantic adapters,
    and datasketch (which imports SciPy) for two answers kept in the start-up cache."""
    script = (
        "import sys\n"
        "sys.argv = ['cleankit', 'clean', '-', '-q']\n"
        "from cleankit.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    for run in ("fills the cache", "reads it"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            input=(PAGE * 20).encode(),
            capture_output=True,
            env=dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache")),
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert "规划印发给你们" in done.stdout.decode()
        loaded = set(done.stderr.decode().split())
        assert "cleankit" in loaded and "typer" in loaded
        assert "pydantic" not in loaded, run
        if run == "reads it":
            assert not loaded & {"datasketch", "scipy"}, run

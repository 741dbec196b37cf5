"""The run's list of inputs held compactly (``InputList``): the same items back, in order,
with far less memory than a list of ``InputItem`` (every nursery and worker maps it)."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from cleankit.core.settings import Settings
from cleankit.io.files import InputItem, InputList
from cleankit.run.inputs import look_at_inputs
from cleankit.run.plan import plan


def _items() -> list[InputItem]:
    return [
        InputItem(
            Path("/data/crawl/www.gov.cn/zhengce/2024-03/content_6938211.txt"),
            "www.gov.cn/zhengce/2024-03/content_6938211.txt",
        ),
        InputItem(
            Path("/data/crawl/北京市人民政府/通知公告/关于做好2024年春节期间工作的通知.txt"),
            "北京市人民政府/通知公告/关于做好2024年春节期间工作的通知.txt",
        ),
        # a file name that is not UTF-8 on disk: os.walk hands it over with lone surrogates
        InputItem(Path("/data/crawl/big5/\udca4\udda4\udce5.txt"), "big5/\udca4\udda4\udce5.txt"),
        InputItem(Path("/data/crawl/missing"), "missing", "no such file or folder"),
        InputItem("s3://bucket/crawl/2024/page-1.txt", "2024/page-1.txt"),
        InputItem(Path("/data/crawl/empty-name"), "", None),
    ]


def test_every_item_comes_back_equal_in_order() -> None:
    items = _items()
    held = InputList(items)
    assert len(held) == len(items)
    assert list(held) == items
    assert held == items
    assert [held[i] for i in range(-len(items), 0)] == items
    assert held[1:4] == items[1:4]
    assert type(held[0].path) is type(items[0].path)
    assert isinstance(held[4].path, str)  # a URL stays a string
    with pytest.raises(IndexError):
        held[len(items)]
    assert not InputList([])


def test_a_crawls_list_takes_a_fraction_of_the_items_memory() -> None:
    made = [
        InputItem(
            Path(f"/work/data/speed-20000p/crawl/site{n % 50:02d}/2024/notice-{n:05d}.txt"),
            f"site{n % 50:02d}/2024/notice-{n:05d}.txt",
        )
        for n in range(5000)
    ]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        as_items = [InputItem(Path(str(item.path)), item.rel) for item in made]
        for item in as_items:
            str(item.path)  # a Path keeps its str once made: counted with the items, as discover makes them
        items_bytes = tracemalloc.get_traced_memory()[0] - before
        before = tracemalloc.get_traced_memory()[0]
        held = InputList(as_items)
        held_bytes = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held == as_items
    # ~110 bytes of names and offsets a file against ~530 for the objects
    assert held_bytes < items_bytes / 3, (held_bytes, items_bytes)


def test_looking_at_a_folder_plans_the_same_tasks(tmp_path: Path) -> None:
    crawl = tmp_path / "crawl"
    for rel in ("gov/通知.txt", "gov/2024/公告.txt", "news/a.txt"):
        (crawl / rel).parent.mkdir(parents=True, exist_ok=True)
        (crawl / rel).write_text("关于做好春节期间有关工作的通知\n", encoding="utf-8")
    os.symlink(crawl / "nowhere.txt", crawl / "news/broken.txt")
    looked = look_at_inputs([crawl], tmp_path / "out", Settings())
    assert isinstance(looked.items, InputList)
    as_list = list(looked.items)
    assert plan(looked.items, tmp_path / "out", {}) == plan(as_list, tmp_path / "out", {})
    assert sorted(item.rel for item in as_list) == [
        "gov/2024/公告.txt",
        "gov/通知.txt",
        "news/a.txt",
        "news/broken.txt",
    ]
    assert as_list[-1].error is not None and "broken symlink" in as_list[-1].error

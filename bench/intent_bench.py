"""Intent reading speed on one core: p50 and p99 µs per message, by kind of message.

Each reading is timed twice: by the thread's CPU clock (what the reading costs; a shared machine's
other processes cannot inflate it) and by the wall clock (what a turn waits, preemption included).

Not a test: a script that prints numbers, run as `.venv/bin/python bench/intent_bench.py`.
Every free-text message is read once on its turn, so a reading must stay under 1 ms p99. The mix
is the intent corpus (every request its authors wrote), short chat, long messages, and the bad
input a turn must survive: empty, emoji-only and 10 KB messages.
"""
from __future__ import annotations

import random
import statistics
import time

from knowledge.intents import load_reader
from knowledge.intents.training import corpus
from knowledge.stations import load_stations

SHORT = ["你好", "在吗", "谢谢", "转人工", "我想做个抑郁测试", "最近有什么活动", "东湖区有心理服务站吗", "ok thanks",
         "what time do you open?", "唔該幫我轉人工", "不要再给我发消息了", "孩子不爱写作业怎么办"]
LONG_PARTS = ["今天上班又被领导骂了", "下午开会开到六点", "晚上陪孩子写作业写到十点", "我觉得最近压力真的很大",
              "不知道该跟谁说这些", "I had a long day at work", "想问问你们那边有没有心理咨询师", "周末的讲座还能报名吗"]
BAD = ["", " ", "🙂", "😭😭😭😭", "🙏" * 300, "心" * 10_240, "a" * 10_240, "表情包" * 3_414, "\x00\ufffd" * 500]


def _report(name: str, cpu: list[float], wall: list[float]) -> None:
    cpu, wall = sorted(cpu), sorted(wall)
    p99 = int(len(cpu) * 0.99)
    print(f"{name:>22}: CPU p50 {statistics.median(cpu):6.1f} µs  p99 {cpu[p99]:6.1f} µs   "
          f"wall p50 {statistics.median(wall):6.1f} µs  p99 {wall[p99]:7.1f} µs  ({len(cpu)} readings)")


def main() -> None:
    rng = random.Random(7)
    started = time.perf_counter()
    reader = load_reader(load_stations())
    load_ms = (time.perf_counter() - started) * 1000
    longs = ["，".join(rng.choices(LONG_PARTS, k=rng.randint(5, 12))) + "。" for _ in range(200)]
    kinds = {"corpus": [r["text"] for r in corpus()], "short chat": SHORT * 20, "long (5-12 sentences)": longs,
             "empty/emoji/10 KB": BAD * 20}
    messages = [(kind, text) for kind, texts in kinds.items() for text in texts]
    for _, text in messages:  # warm up, and prove that nothing raises
        reader.read(text)
    cpu: dict[str, list[float]] = {kind: [] for kind in kinds}
    wall: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(5):
        rng.shuffle(messages)
        for kind, text in messages:
            c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
            reader.read(text)
            wall[kind].append((time.perf_counter_ns() - w0) / 1000)
            cpu[kind].append((time.thread_time_ns() - c0) / 1000)
    print(f"model and slots load: {load_ms:.0f} ms; 5 passes over {len(messages)} texts, one core")
    for kind in kinds:
        _report(kind, cpu[kind], wall[kind])
    _report("all", [t for ts in cpu.values() for t in ts], [t for ts in wall.values() for t in ts])


if __name__ == "__main__":
    main()

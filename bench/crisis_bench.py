"""Crisis detector speed on one core: messages per second, mean and p99 µs of CPU per scan.

CPU time (thread_time), not wall time: the machine shares two cores with its load, and a scan's own
cost is what the budget (1 ms p99) is about.

Not a test: a script that prints numbers, run as `.venv/bin/python bench/crisis_bench.py`.
The mix is realistic chat: short messages, long multi-sentence messages, English and mixed
text, and every corpus text. The scan must add well under a millisecond to a turn.
"""
from __future__ import annotations

import json
import random
import statistics
import time
from pathlib import Path

from knowledge.crisis import Detector

CORPUS = Path(__file__).resolve().parent.parent / "knowledge" / "data" / "crisis" / "corpus"
SHORT = ["你好", "在吗", "好的谢谢", "明天几点开始？", "哈哈哈笑死我了", "我想预约心理咨询", "ok thanks", "今天好累啊",
         "周末的讲座在哪里报名", "孩子不爱写作业怎么办", "我最近睡不好", "what time do you open?"]
LONG_PARTS = ["今天上班又被领导骂了", "中午的外卖也不好吃", "下午开会开到六点", "回家的路上堵车堵了一个小时",
              "晚上陪孩子写作业写到十点", "我觉得最近压力真的很大", "周末想带爸妈去公园走走", "不知道该跟谁说这些",
              "I had a long day at work", "my boss keeps changing the deadline", "老公最近也很忙，没空聊天"]


def _messages(rng: random.Random) -> dict[str, list[str]]:
    corpus = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        corpus += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    longs = ["。".join(rng.choices(LONG_PARTS, k=rng.randint(5, 12))) + "。" for _ in range(200)]
    return {"short chat": SHORT * 40, "long (5-12 sentences)": longs, "corpus": corpus}


def _report(name: str, timings: list[float], texts: list[str]) -> None:
    timings = sorted(timings)
    chars = statistics.mean(len(t) for t in texts)
    print(f"{name:>22}: {len(timings) / (sum(timings) / 1e6):>8,.0f} msg/s  mean {statistics.mean(timings):6.1f} µs  "
          f"p99 {timings[int(len(timings) * 0.99)]:6.1f} µs  ({len(texts)} texts, mean {chars:.0f} chars)")


def main() -> None:
    rng = random.Random(7)
    started = time.perf_counter()
    detector = Detector.load()
    load_ms = (time.perf_counter() - started) * 1000
    kinds = _messages(rng)
    messages = [(kind, text) for kind, texts in kinds.items() for text in texts]
    for _, text in messages:
        detector.scan(text)
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(2):
        rng.shuffle(messages)
        for kind, text in messages:
            t0 = time.thread_time_ns()
            detector.scan(text)
            timings[kind].append((time.thread_time_ns() - t0) / 1000)
    print(f"lexicon and model load: {load_ms:.0f} ms; 2 passes over {len(messages)} texts")
    for kind, texts in kinds.items():
        _report(kind, timings[kind], texts)
    _report("all", [t for ts in timings.values() for t in ts], [t for _, t in messages])


if __name__ == "__main__":
    main()

"""Transcript search over 1,000,000 generated messages on PostgreSQL: p50 of the common searches,
with the plan each one gets (which index, or a sequential scan).

    .venv/bin/python bench/search_bench.py [--messages 1000000] [--runs 7] [--compare-trgm] [--role reviewer]

Uses XZ_BENCH_DATABASE_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/xinzhan_search_bench),
drops and recreates that database, applies the migrations, fills it with generate_series, then
times the queries review's search really builds (handoff/review/search.py), as a supervisor (or
`--role`: access is decided per message from its conversation's cases, handoff/review/access.py).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import date, timedelta

import psycopg
from sqlalchemy.dialects import postgresql

from bot.auth.users import Staff
from bot.migrate import upgrade
from handoff.review.search import Filters, build_query

URL = os.environ.get("XZ_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/xinzhan_search_bench")
ROLE = "supervisor"
PHRASES = [
    "我最近一直失眠", "晚上睡不着觉", "今天心情还可以", "工作压力很大", "不知道怎么办", "和家人吵架了", "孩子不愿意上学",
    "我感觉很孤独", "谢谢你们的帮助", "请问附近有心理咨询站吗", "最近总是焦虑", "心跳很快", "想找人聊聊天", "考试没考好",
    "老人一个人在家", "刚生完孩子情绪很低落", "领导总是批评我", "房贷压得喘不过气", "和男朋友分手了", "每天都很累",
    "吃不下饭", "觉得自己没用", "有点担心妈妈的身体", "同学都不理我", "不想去上班", "脑子里总是乱糟糟的",
    "谢谢，好多了", "我想做个测评", "活动在哪里报名", "你好", "在吗", "好的", "嗯嗯", "我是学生", "退休以后很空虚",
    "被裁员了", "网上借了很多钱", "一直在哭", "没有人理解我", "心里很难受",
]
RARE = "惊恐发作"  # in about 0.1% of messages


def sync_url(url: str) -> str:
    return url.replace("+asyncpg", "")


def recreate(url: str) -> None:
    admin, name = url.rsplit("/", 1)
    with psycopg.connect(sync_url(admin) + "/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def generate(conn: psycopg.Connection, messages: int) -> None:
    conversations = messages // 10
    bank = "ARRAY[" + ",".join(f"'{p}'" for p in PHRASES) + "]"
    steps = [
        ("staff", """INSERT INTO staff_users (username, display_name, password_hash, roles, languages, max_chats,
             active, created_at) SELECT 'c' || i, '咨询师' || i, 'x', 'counsellor', 'zh-Hans', 3, true, now()
             FROM generate_series(1, 20) i"""),
        ("residents", """INSERT INTO residents (openid, subscribed, language, area, name, scene, created_at)
             SELECT 'o-bench-' || i, true, 'zh-Hans', '', '', '', now() FROM generate_series(1, 20000) i"""),
        ("conversations", f"""INSERT INTO conversations (resident_id, started_at, last_at, max_risk)
             SELECT 1 + (i % 20000), t, t + interval '30 minutes', 0
             FROM (SELECT i, now() - random() * interval '730 days' AS t FROM generate_series(1, {conversations}) i) s"""),
        ("messages", f"""INSERT INTO messages (conversation_id, resident_id, direction, sender, kind, content,
             platform_msg_id, delivery, error, author_id, created_at)
             SELECT c.id, c.resident_id, CASE WHEN k % 2 = 0 THEN 'in' ELSE 'out' END,
                    CASE WHEN k % 2 = 0 THEN 'resident' ELSE 'bot' END, 'text',
                    ({bank})[1 + floor(random() * {len(PHRASES)})::int] || '，' ||
                    ({bank})[1 + floor(random() * {len(PHRASES)})::int] ||
                    CASE WHEN random() < 0.001 THEN '，{RARE}' ELSE '' END,
                    '', 'passive', '', NULL, c.started_at + k * interval '1 minute'
             FROM conversations c, generate_series(1, 10) k"""),
        ("cases", """INSERT INTO handoff_cases (resident_id, conversation_id, reason, level, evidence, status, queued_at,
             closed_at, counsellor_id, outcome, false_alarm, told_position, notes)
             SELECT c.resident_id, c.id, 'crisis', floor(random() * 5)::int, '', 'closed', c.started_at, c.last_at,
                    1 + floor(random() * 20)::int,
                    (ARRAY['resolved','referred','follow_up','false_alarm'])[1 + floor(random() * 4)::int], false, 0, ''
             FROM conversations c WHERE c.id % 20 = 0"""),
        ("detections", """INSERT INTO safety_detections (resident_id, conversation_id, source, level, matched, reason,
             action, false_alarm, created_at)
             SELECT c.resident_id, c.id, 'message', 1 + floor(random() * 4)::int, '[]', '', 'none', false, c.started_at
             FROM conversations c WHERE c.id % 10 = 3"""),
        ("analyze", "ANALYZE"),
    ]
    for name, sql in steps:
        started = time.perf_counter()
        conn.execute(sql)
        conn.commit()
        print(f"  {name:<14} {time.perf_counter() - started:6.1f} s", flush=True)


def compiled(f: Filters) -> tuple[str, dict]:
    query = build_query(Staff(1, "bench", "bench", frozenset({ROLE}), 3), f, "postgresql")
    c = query.compile(dialect=postgresql.psycopg.dialect(), compile_kwargs={"render_postcompile": True})
    return str(c), c.params


def plan_summary(node: dict) -> list[str]:
    out = []
    kind = node.get("Node Type", "")
    if "Index Name" in node:
        out.append(f"{kind} {node['Index Name']}")
    elif kind == "Seq Scan":
        out.append(f"Seq Scan {node.get('Relation Name')}")
    for child in node.get("Plans", []):
        out += plan_summary(child)
    return out


def measure(conn: psycopg.Connection, label: str, sql: str, params: dict, runs: int) -> None:
    times, rows = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        rows = len(conn.execute(sql, params).fetchall())
        times.append((time.perf_counter() - started) * 1000)
    plan = conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0][0]["Plan"]
    scans = ", ".join(dict.fromkeys(plan_summary(plan))) or plan.get("Node Type")
    print(f"{label:<42} p50 {statistics.median(times):8.2f} ms  rows {rows:>3}  plan: {scans}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--compare-trgm", action="store_true", help="also time ILIKE on a pg_trgm GIN index")
    parser.add_argument("--reuse", action="store_true", help="keep the database a previous run generated")
    parser.add_argument("--role", default="supervisor", choices=("supervisor", "reviewer", "counsellor"))
    args = parser.parse_args()
    global ROLE
    ROLE = args.role
    print(f"database {URL.rsplit('@', 1)[-1]}: {args.messages:,} messages, as a {ROLE}", flush=True)
    if not args.reuse:
        recreate(URL)
        upgrade(URL)
    with psycopg.connect(sync_url(URL)) as conn:
        if not args.reuse:
            generate(conn, args.messages)
        today = date.today()
        searches = [
            ("by resident", Filters(openid="o-bench-4242")),
            ("by date range (30 days) + level >= 3", Filters(since=today - timedelta(days=60),
                                                             until=today - timedelta(days=30), level=3)),
            ("by Chinese word 失眠 (common)", Filters(words=("失眠",))),
            (f"by Chinese word {RARE[:2]} (rare)", Filters(words=(RARE[:2],))),
            ("by Chinese words 失眠 焦虑 (both)", Filters(words=("失眠", "焦虑"))),
            ("by word 失眠 + date range", Filters(words=("失眠",), since=today - timedelta(days=30), until=today)),
            ("by counsellor", Filters(counsellor="c7")),
            ("by counsellor + outcome", Filters(counsellor="c7", outcome="referred")),
        ]
        for label, f in searches:
            measure(conn, label, *compiled(f), runs=args.runs)
        if args.compare_trgm:  # the bigram counts first, before a trigram index can muddle their plans
            for word in ("失眠", RARE[:2], RARE):
                measure(conn, f"bigrams '{word}' (count)",
                        "SELECT count(*) FROM messages WHERE review_bigrams(content) @> %(g)s AND content ILIKE %(w)s",
                        {"g": sorted({word[i:i + 2] for i in range(len(word) - 1)}), "w": f"%{word}%"}, args.runs)
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            conn.execute("CREATE INDEX IF NOT EXISTS bench_trgm ON messages USING gin (content gin_trgm_ops)")
            conn.execute("ANALYZE messages")
            conn.commit()
            for word in ("失眠", RARE[:2], RARE):
                measure(conn, f"pg_trgm ILIKE '%{word}%' (count)",
                        "SELECT count(*) FROM messages WHERE content ILIKE %(w)s", {"w": f"%{word}%"}, args.runs)
            conn.execute("DROP INDEX bench_trgm")
            conn.commit()

if __name__ == "__main__":
    main()

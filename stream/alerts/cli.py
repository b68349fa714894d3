"""``finsentry silence add|list|expire`` and ``finsentry alerts tail``.

``stream.cli.main`` dispatches here through ``main(command, argv)``, which calls ``silence_main(argv)``
or ``alerts_main(argv)``.
"""
from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import signal
import sys
import threading
import time
from typing import Any

from redis.exceptions import RedisError

from stream.alerts.payload import iso
from stream.alerts.silences import RULES, Silence, SilenceStore, parse_duration


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--redis-url", help="Redis URL (default: settings / FINSENTRY_REDIS_URL)")
    parser.add_argument("--config", help="TOML settings file (default: FINSENTRY_CONFIG)")


def _connect(args: argparse.Namespace) -> tuple[Any, str]:
    """An asyncio Redis client built from the usual settings (flags > env > file) and the key prefix."""
    from stream.alerts.agent import config_from_settings, redis_from_settings
    from stream.settings import load_settings

    settings = load_settings({"redis_url": args.redis_url}, config_file=args.config)
    return redis_from_settings(settings), config_from_settings(settings)


def _describe(s: Silence, now: float) -> str:
    left = s.ends_at - now
    status = f"{left / 60:.0f}m left" if left > 0 else f"expired {iso(s.ends_at)}"
    return (f"{s.id}  ticker={s.ticker or '*'}  rule={s.rule or '*'}  until {iso(s.ends_at)} ({status})"
            f"  by {s.created_by or '-'}: {s.comment}")


async def _silence(args: argparse.Namespace) -> int:
    redis, config = _connect(args)
    store = SilenceStore(redis, config.key_prefix, cache_s=0)
    now = time.time()
    try:
        if args.action == "add":
            s = await store.add(Silence.create(ticker=args.ticker, rule=args.rule, now=now,
                                               duration_s=parse_duration(args.duration),
                                               comment=args.comment, created_by=args.author))
            print(json.dumps(s.__dict__) if args.json else f"added {_describe(s, now)}")
        elif args.action == "list":
            items = await store.list(now, include_expired=args.all)
            if args.json:
                print(json.dumps([s.__dict__ for s in items]))
            for s in [] if args.json else items:
                print(_describe(s, now))
            if not items and not args.json:
                print("no silences")
        else:
            s = await store.expire(args.id, now)
            if s is None:
                print(f"finsentry silence expire: no silence with id {args.id!r}", file=sys.stderr)
                return 1
            print(f"expired {_describe(s, now)}")
        return 0
    finally:
        await redis.aclose()


def silence_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="finsentry silence", description="mute alerts for a while")
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="mute alerts by ticker and/or rule")
    add.add_argument("--ticker", help="e.g. AAPL (omit to match every ticker)")
    add.add_argument("--rule", choices=RULES, help="omit to match every rule")
    add.add_argument("--duration", default="2h", help="how long, e.g. 30m, 2h, 1d (default 2h)")
    add.add_argument("--comment", default="", help="why")
    add.add_argument("--author", default=getpass.getuser(), help="who (default: the current user)")
    lst = sub.add_parser("list", help="show silences in force")
    lst.add_argument("--all", action="store_true", help="include those expired in the last day")
    exp = sub.add_parser("expire", help="end a silence now")
    exp.add_argument("id")
    for p in (add, lst, exp):
        _common(p)
        p.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_silence(args))
    except ValueError as exc:  # config errors (bad duration, rule, settings) are ValueErrors
        print(f"finsentry silence: {exc}", file=sys.stderr)
        return 2
    except RedisError as exc:
        print(f"finsentry silence: Redis unreachable or failing: {exc}", file=sys.stderr)
        return 1


def format_alert(a: dict[str, Any]) -> str:
    w = a.get("window", {})
    heads = "; ".join(f"{h['score']:+.2f} {h['headline'][:60]}" for h in a.get("headlines", [])[:3])
    return (f"{a.get('event_at')}  {a.get('notice', a.get('state', '?')).upper():8} {a.get('ticker'):<8} "
            f"{a.get('rule'):<6} {a.get('direction'):<4} mean {w.get('mean_before', 0):+.3f} -> "
            f"{w.get('mean_after', 0):+.3f} ({a.get('sigma_distance', 0):+.1f} sigma, "
            f"{w.get('articles', 0)} articles)  {heads}")


async def _tail(args: argparse.Namespace) -> int:
    # Ctrl-C or SIGTERM end the loop between two reads, rather than cancelling a blocked read: a read
    # cancelled mid-reply can leave the connection's close waiting on the socket.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if args.follow and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    redis, config = _connect(args)
    try:
        last = "$"
        if args.lines:
            recent = await redis.xrevrange(config.stream_key, count=args.lines)
            for entry_id, fields in reversed(recent):
                _print(fields, args)
            last = recent[0][0] if recent else "0-0"
        while args.follow and not stop.is_set():
            got = await redis.xread({config.stream_key: last}, block=250, count=100)
            for entry_id, fields in (got[0][1] if got else []):
                _print(fields, args)
                last = entry_id
        return 0
    finally:
        await redis.aclose()


def _print(fields: dict, args: argparse.Namespace) -> None:
    alert = json.loads(fields[b"payload"])
    if args.ticker and alert.get("ticker") != args.ticker.upper():
        return
    if args.rule and alert.get("rule") != args.rule:
        return
    print(json.dumps(alert) if args.json else format_alert(alert), flush=True)


def alerts_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="finsentry alerts", description="follow alerts in the terminal")
    sub = parser.add_subparsers(dest="action", required=True)
    tail = sub.add_parser("tail", help="print recent alerts, then new ones as they come")
    tail.add_argument("-n", "--lines", type=int, default=10, help="recent alerts to show first (default 10)")
    tail.add_argument("--no-follow", dest="follow", action="store_false", help="print recent alerts and exit")
    tail.add_argument("--ticker")
    tail.add_argument("--rule", choices=RULES)
    tail.add_argument("--json", action="store_true", help="one JSON payload per line")
    _common(tail)
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_tail(args))
    except KeyboardInterrupt:
        return 0
    except ValueError as exc:
        print(f"finsentry alerts: {exc}", file=sys.stderr)
        return 2
    except RedisError as exc:
        print(f"finsentry alerts: Redis unreachable or failing: {exc}", file=sys.stderr)
        return 1


def main(command: str, argv: list[str]) -> int:
    handlers = {"silence": silence_main, "alerts": alerts_main}
    if command not in handlers:
        print(f"stream.alerts.cli: expected one of {', '.join(handlers)}, got {command!r}", file=sys.stderr)
        return 2
    return handlers[command](argv)

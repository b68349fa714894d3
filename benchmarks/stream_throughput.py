"""Stream worker benchmarks on embedded tansu and Redis: throughput, latency at a fixed rate, memory.

    python -m benchmarks.stream_throughput [--model-dir models/default] [--teacher runs/teacher]

1. throughput: N messages are published first, then one worker drains them: sustained msg/s Kafka -> Redis.
2. latency: messages published at --rate msg/s for --latency-seconds; end to end = publish -> the scored
   record read back from the output topic (after its Redis and Kafka writes), p50/p99.
3. memory: the worker's RSS sampled during a --memory-seconds replay at --memory-rate msg/s.
Without --model-dir (and no models/default) a randomly initialised full-size BiLSTM student stands in: it
costs the same compute as a trained one, so the speed figures hold. Headlines come from
../shared/data/news_stream.csv when present, else from the demo's generator.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from stream.demo.headlines import HeadlineGenerator
from stream.embedded import EmbeddedServices
from stream.kafka_admin import create_topics
from stream.replay import read_messages
from stream.worker_process import WorkerProcess

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "news_stream.csv"


def headlines(n: int, data: Path | None) -> list[str]:
    if data is not None and data.is_file():
        out = []
        for message in read_messages(data):
            out.append(message.payload["headline"])
            if len(out) == n:
                return out
    generator = HeadlineGenerator(seed=1)
    return [generator.next(i / 100)["headline"] for i in range(n)]


def standin_student(out: Path) -> Path:
    from models.artifact import save_student
    from models.pretrained import minilm_path
    from models.student import BiLSTMConfig, BiLSTMStudent

    save_student(out, BiLSTMStudent(BiLSTMConfig()).eval(), "bilstm", minilm_path() / "tokenizer.json", 64,
                 extra={"note": "random full-size stand-in for benchmarks"})
    return out


def start_worker(services, workdir: Path, model: Path, topic: str, tag: str, **extra) -> WorkerProcess:
    return WorkerProcess(workdir / f"worker-{tag}.log", kafka_bootstrap=services.kafka.bootstrap,
                         redis_url=services.redis.url, model_dir=model, device="cpu", input_topic=topic,
                         output_topic=f"{topic}.scored", dlq_topic=f"{topic}.dlq", group_id=f"bench-{tag}",
                         broker_session_timeout_s=6, broker_heartbeat_interval_s=1, log_level="WARNING",
                         **extra).start().wait_ready(timeout_s=300)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(services, worker) -> dict[str, float]:
    return {"worker": cpu_seconds(worker.pid), "redis": cpu_seconds(services.redis.proc.pid),
            "kafka": cpu_seconds(services.kafka.proc.pid)}


def producer(services):
    from kafka import KafkaProducer

    return KafkaProducer(bootstrap_servers=services.kafka.bootstrap, linger_ms=5, batch_size=256 * 1024)


def throughput(services, workdir, model, texts, tag) -> float:
    topic = f"tput-{tag}"
    create_topics([topic], partitions=4, bootstrap_servers=services.kafka.bootstrap)
    prod = producer(services)
    for i, text in enumerate(texts):
        prod.send(topic, json.dumps({"id": f"{tag}-{i}", "headline": text}).encode())
    prod.flush()
    worker = start_worker(services, workdir, model, topic, tag)
    try:
        n = len(texts)
        while worker.metric("finsentry_messages_out_total") < n * 0.1:
            time.sleep(0.05)
        t0, c0, cpu0 = time.monotonic(), worker.metric("finsentry_messages_out_total"), cpu_snapshot(services, worker)
        while (done := worker.metric("finsentry_messages_out_total")) < n:
            time.sleep(0.05)
        elapsed, cpu1 = time.monotonic() - t0, cpu_snapshot(services, worker)
        rate = (done - c0) / elapsed
        # Wall time per message of each step (the steps overlap), and CPU time per message of each process.
        print("  wall ms per message:", {name: round(1000 * worker.metric(f"finsentry_{name}_seconds_sum") / done, 3)
                                         for name in ("inference", "redis_write", "kafka_send")}, flush=True)
        print("  CPU ms per message:", {k: round(1000 * (cpu1[k] - cpu0[k]) / (done - c0), 3) for k in cpu0},
              flush=True)
        return rate
    finally:
        worker.stop()


def paced(services, topic: str, texts: list[str], rate: float, seconds: float, tag: str) -> threading.Thread:
    def run() -> None:
        prod = producer(services)
        start, i = time.monotonic(), 0
        while (elapsed := time.monotonic() - start) < seconds:
            if i / rate > elapsed:
                time.sleep(min(0.002, i / rate - elapsed))
                continue
            prod.send(topic, json.dumps({"id": f"{tag}-{i}", "ts": int(time.time() * 1000),
                                         "headline": texts[i % len(texts)]}).encode())
            i += 1
        prod.flush()
        prod.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def latency(services, workdir, model, texts, rate, seconds, tag) -> dict:
    from kafka import KafkaConsumer

    topic = f"lat-{tag}"
    create_topics([topic], partitions=4, bootstrap_servers=services.kafka.bootstrap)
    create_topics([f"{topic}.scored"], partitions=2, bootstrap_servers=services.kafka.bootstrap)
    worker = start_worker(services, workdir, model, topic, tag)
    consumer = KafkaConsumer(f"{topic}.scored", bootstrap_servers=services.kafka.bootstrap,
                             auto_offset_reset="earliest", group_id=None, fetch_max_wait_ms=10,
                             consumer_timeout_ms=500)
    try:
        feeder = paced(services, topic, texts, rate, seconds, tag)
        e2e, scored_ms, deadline = [], [], time.monotonic() + seconds + 30
        while (feeder.is_alive() or len(e2e) < rate * seconds * 0.999) and time.monotonic() < deadline:
            for message in consumer:
                record = json.loads(message.value)
                e2e.append(time.time() * 1000 - record["ts_ms"])
                scored_ms.append(record["latency_ms"])
        warm = e2e[int(rate * 5):]  # skip the first 5 seconds of warm-up
        q = statistics.quantiles(warm, n=100)
        return {"received": len(e2e), "p50_ms": q[49], "p99_ms": q[98], "max_ms": max(warm),
                "publish_to_scored_p99_ms": statistics.quantiles(scored_ms[int(rate * 5):], n=100)[98]}
    finally:
        consumer.close()
        worker.stop()


def memory(services, workdir, model, texts, rate, seconds, tag) -> dict:
    topic = f"mem-{tag}"
    create_topics([topic], partitions=4, bootstrap_servers=services.kafka.bootstrap)
    worker = start_worker(services, workdir, model, topic, tag)
    try:
        feeder = paced(services, topic, texts, rate, seconds, tag)
        samples = []
        while feeder.is_alive():
            samples.append((time.monotonic(), worker.rss_bytes() / 2**20))
            time.sleep(2)
        start = samples[0][0]
        settled = [mb for t, mb in samples if t - start >= min(30, seconds / 4)]
        return {"samples": len(samples), "rss_start_mb": settled[0], "rss_end_mb": settled[-1],
                "rss_max_mb": max(settled), "growth_pct": 100 * (settled[-1] - settled[0]) / settled[0],
                "scored": worker.metric("finsentry_messages_out_total")}
    finally:
        worker.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-dir", type=Path, default=Path("models/default"))
    p.add_argument("--teacher", type=Path, default=Path("runs/teacher"))
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--messages", type=int, default=20_000)
    p.add_argument("--rate", type=float, default=500)
    p.add_argument("--latency-seconds", type=float, default=30)
    p.add_argument("--memory-seconds", type=float, default=120)
    p.add_argument("--memory-rate", type=float, default=1000)
    p.add_argument("--skip", nargs="*", default=[], choices=["throughput", "latency", "memory", "teacher"])
    args = p.parse_args(argv)

    texts = headlines(max(args.messages, 5000), args.data)
    with tempfile.TemporaryDirectory(prefix="finsentry-bench-") as tmp, EmbeddedServices() as services:
        workdir = Path(tmp)
        if args.model_dir.is_dir():
            model, model_name = args.model_dir, str(args.model_dir)
        else:
            model, model_name = standin_student(workdir / "standin"), "random full-size BiLSTM stand-in"
        print(f"model: {model_name}; headlines: {args.data if args.data.is_file() else 'generated'}", flush=True)
        results = {"model": model_name}
        if "throughput" not in args.skip:
            results["throughput_msg_s"] = round(throughput(services, workdir, model, texts[:args.messages], "s"))
            print(f"throughput: {results['throughput_msg_s']} msg/s Kafka -> Redis", flush=True)
        if "latency" not in args.skip:
            results["latency"] = latency(services, workdir, model, texts, args.rate, args.latency_seconds, "s")
            print(f"latency at {args.rate:.0f} msg/s: {results['latency']}", flush=True)
        if "memory" not in args.skip:
            results["memory"] = memory(services, workdir, model, texts, args.memory_rate, args.memory_seconds, "s")
            print(f"memory over {args.memory_seconds:.0f}s at {args.memory_rate:.0f} msg/s: {results['memory']}",
                  flush=True)
        teacher = args.teacher
        if "teacher" not in args.skip and teacher.is_dir() and (teacher / "config.json").is_file():
            results["teacher_throughput_msg_s"] = round(throughput(services, workdir, teacher, texts[:2000], "t"))
            print(f"teacher throughput: {results['teacher_throughput_msg_s']} msg/s", flush=True)
            results["teacher_latency"] = latency(services, workdir, teacher, texts, args.rate,
                                                 args.latency_seconds, "t")
            print(f"teacher latency at {args.rate:.0f} msg/s: {results['teacher_latency']}", flush=True)
        elif "teacher" not in args.skip:
            print(f"teacher: none at {teacher} (a Hugging Face classifier directory); skipped", flush=True)
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Stream worker benchmarks on embedded tansu and Redis: throughput, latency at a fixed rate, memory.

    python -m benchmarks.stream_throughput [--model-dir models/default] [--teacher runs/teacher]
    python -m benchmarks.stream_throughput --modes memory          # the 10-minute memory run on its own

Modes (``--modes``, default ``throughput latency teacher``):

1. throughput: N messages are published first, then one worker drains them: sustained msg/s Kafka -> Redis
   (measured from 10% to 100% drained, so start-up and group join are excluded), with the wall time of each
   step and the CPU time of each process per message.
2. latency: messages published at --rate msg/s for --latency-seconds, each stamped with its send time; end to
   end = send -> the scored record read back from the output topic (i.e. after its Redis and Kafka writes);
   p50/p99 after a 5 s warm-up.
3. teacher: throughput and latency again with a Hugging Face classifier as the model: --teacher when it is a
   classifier directory, else the packaged MiniLM encoder with a fresh 3-way classification head (same compute
   as a fine-tuned MiniLM teacher; its scores are meaningless).
   With --workers N (default 2), throughput is also measured for N workers in one consumer group, the way to
   use more cores (each worker runs one torch thread).
4. memory: the worker's RSS sampled every 2 s during a --memory-seconds replay at --memory-rate msg/s.

Workers run as in production (alerts on, one torch thread) on --device. Without --model-dir (and no
models/default) a randomly initialised full-size BiLSTM student stands in: the default student has the same
architecture and size, so the speed figures hold. Messages are the rows of ../shared/data/news_stream.csv
(headline, tickers, event time) when present, else the demo's generated headlines.
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
MODES = ("throughput", "latency", "teacher", "memory")


def payloads(n: int, data: Path | None) -> list[dict]:
    """Input messages without ids (each run adds its own)."""
    out: list[dict] = []
    if data is not None and data.is_file():
        for message in read_messages(data):
            out.append(message.payload)
            if len(out) == n:
                return out
    generator = HeadlineGenerator(seed=1)
    while len(out) < n:
        out.append({k: v for k, v in generator.next(len(out) / 100).items() if k != "id"})
    return out


def standin_student(out: Path) -> Path:
    from models.artifact import save_student
    from models.pretrained import minilm_path
    from models.student import BiLSTMConfig, BiLSTMStudent

    save_student(out, BiLSTMStudent(BiLSTMConfig()).eval(), "bilstm", minilm_path() / "tokenizer.json", 64,
                 extra={"note": "random full-size stand-in for benchmarks"})
    return out


def minilm_classifier(out: Path) -> Path:
    """The packaged all-MiniLM-L6-v2 encoder with a fresh (seeded) 3-way head, saved as a classifier directory."""
    import shutil

    import torch
    from transformers import AutoModelForSequenceClassification

    from models.labels import LABELS
    from models.pretrained import minilm_path

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(minilm_path()), num_labels=3, id2label=dict(enumerate(LABELS)),
        label2id={name: i for i, name in enumerate(LABELS)})
    model.save_pretrained(str(out))
    shutil.copyfile(minilm_path() / "tokenizer.json", out / "tokenizer.json")
    return out


def is_classifier(path: Path) -> bool:
    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return "id2label" in config and any(path.glob("*.safetensors"))


def launch_worker(services, workdir: Path, model: Path, topic: str, name: str, group: str,
                  opts: dict) -> WorkerProcess:
    """A started worker on this run's topics (not yet waited for); ``opts``: further settings (device,
    alerts_enabled)."""
    return WorkerProcess(workdir / f"worker-{name}.log", kafka_bootstrap=services.kafka.bootstrap,
                         redis_url=services.redis.url, model_dir=model, input_topic=topic,
                         output_topic=f"{topic}.scored", dlq_topic=f"{topic}.dlq", by_ticker_topic=f"{topic}.tk",
                         alerts_topic=f"{topic}.alerts", group_id=group, broker_session_timeout_s=6,
                         broker_heartbeat_interval_s=1, log_level="WARNING", **opts).start()


def start_worker(services, workdir: Path, model: Path, topic: str, tag: str, opts: dict) -> WorkerProcess:
    """One worker on this run's topics, ready (partitions assigned)."""
    return launch_worker(services, workdir, model, topic, tag, f"bench-{tag}", opts).wait_ready(timeout_s=300)


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


def throughput(services, workdir, model, messages, tag, opts, workers: int = 1) -> dict:
    """Publish ``messages``, then let ``workers`` workers (one consumer group) drain them."""
    topic = f"tput-{tag}{workers}"
    create_topics([topic], partitions=4, bootstrap_servers=services.kafka.bootstrap)
    prod = producer(services)
    for i, payload in enumerate(messages):
        prod.send(topic, json.dumps({**payload, "id": f"{tag}{workers}-{i}"}).encode())  # own ids per run
    prod.flush()
    prod.close()
    # started together: one group join, no rebalance while the clock runs
    started = [launch_worker(services, workdir, model, topic, f"{tag}{workers}-{k}", f"bench-{tag}{workers}", opts)
               for k in range(workers)]

    def scored() -> float:
        return sum(w.metric("finsentry_messages_out_total") for w in started)

    def cpu() -> dict[str, float]:
        snaps = [cpu_snapshot(services, w) for w in started]
        return {k: sum(s[k] for s in snaps) if k == "worker" else snaps[0][k] for k in snaps[0]}

    try:
        for w in started:
            w.wait_ready(timeout_s=300)
        n = len(messages)
        while scored() < n * 0.1:
            time.sleep(0.25)  # each poll is a /metrics scrape of every worker: keep it rare
        t0, c0, cpu0 = time.monotonic(), scored(), cpu()
        while (done := scored()) < n:
            time.sleep(0.25)  # each poll is a /metrics scrape of every worker: keep it rare
        elapsed, cpu1 = time.monotonic() - t0, cpu()
        # Wall time per message of each step (steps overlap), and CPU time per message of each process.
        return {"msg_s": round((done - c0) / elapsed), "messages": n, "workers": workers,
                "wall_ms_per_msg": {name: round(1000 * sum(w.metric(f"finsentry_{name}_seconds_sum")
                                                           for w in started) / done, 3)
                                    for name in ("inference", "redis_write", "kafka_send")},
                "cpu_ms_per_msg": {k: round(1000 * (cpu1[k] - cpu0[k]) / (done - c0), 3) for k in cpu0}}
    finally:
        for w in started:
            w.stop()


def paced(services, topic: str, messages: list[dict], rate: float, seconds: float, tag: str) -> threading.Thread:
    def run() -> None:
        prod = producer(services)
        start, i = time.monotonic(), 0
        while (elapsed := time.monotonic() - start) < seconds:
            if i / rate > elapsed:
                time.sleep(min(0.002, i / rate - elapsed))
                continue
            payload = {**messages[i % len(messages)], "id": f"{tag}-{i}", "ts": int(time.time() * 1000)}
            prod.send(topic, json.dumps(payload).encode())
            i += 1
        prod.flush()
        prod.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def latency(services, workdir, model, messages, rate, seconds, tag, opts) -> dict:
    from kafka import KafkaConsumer

    topic = f"lat-{tag}"
    create_topics([topic], partitions=4, bootstrap_servers=services.kafka.bootstrap)
    create_topics([f"{topic}.scored"], partitions=2, bootstrap_servers=services.kafka.bootstrap)
    worker = start_worker(services, workdir, model, topic, tag, opts)
    consumer = KafkaConsumer(f"{topic}.scored", bootstrap_servers=services.kafka.bootstrap,
                             auto_offset_reset="earliest", group_id=None, fetch_max_wait_ms=10,
                             consumer_timeout_ms=500)
    try:
        feeder = paced(services, topic, messages, rate, seconds, tag)
        e2e, deadline = [], time.monotonic() + seconds + 60
        while (feeder.is_alive() or len(e2e) < rate * seconds * 0.999) and time.monotonic() < deadline:
            for message in consumer:
                e2e.append(time.time() * 1000 - json.loads(message.value)["ts_ms"])
        warm = e2e[int(rate * 5):]  # skip the first 5 seconds of warm-up
        q = statistics.quantiles(warm, n=100)
        return {"rate_msg_s": rate, "seconds": seconds, "sent": int(rate * seconds), "received": len(e2e),
                "p50_ms": round(q[49], 1), "p99_ms": round(q[98], 1), "max_ms": round(max(warm), 1)}
    finally:
        consumer.close()
        worker.stop()


def memory(services, workdir, model, messages, rate, seconds, tag, opts) -> dict:
    topic = f"mem-{tag}"
    create_topics([topic], partitions=4, bootstrap_servers=services.kafka.bootstrap)
    worker = start_worker(services, workdir, model, topic, tag, opts)
    try:
        feeder = paced(services, topic, messages, rate, seconds, tag)
        samples = []
        while feeder.is_alive():
            samples.append((time.monotonic(), worker.rss_bytes() / 2**20))
            time.sleep(2)
        start = samples[0][0]
        settled = [mb for t, mb in samples if t - start >= min(60, seconds / 4)]  # after warm-up
        return {"rate_msg_s": rate, "seconds": seconds, "samples": len(samples),
                "rss_first_mb": round(samples[0][1], 1), "rss_settled_mb": round(settled[0], 1),
                "rss_end_mb": round(settled[-1], 1), "rss_max_mb": round(max(settled), 1),
                "growth_pct": round(100 * (settled[-1] - settled[0]) / settled[0], 2),
                "per_minute_mb": [round(mb, 1) for t, mb in samples if int(t - start) % 60 < 2][::1],
                "scored": worker.metric("finsentry_messages_out_total")}
    finally:
        worker.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--modes", nargs="+", choices=MODES, default=["throughput", "latency", "teacher"])
    p.add_argument("--model-dir", type=Path, default=Path("models/default"))
    p.add_argument("--teacher", type=Path, default=Path("runs/teacher"))
    p.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--messages", type=int, default=30_000)
    p.add_argument("--teacher-messages", type=int, default=3_000)
    p.add_argument("--rate", type=float, default=500)
    p.add_argument("--latency-seconds", type=float, default=30)
    p.add_argument("--memory-seconds", type=float, default=600)
    p.add_argument("--memory-rate", type=float, default=500)
    p.add_argument("--workers", type=int, default=2,
                   help="also measure throughput with this many workers in one group (default 2; 1 = skip)")
    p.add_argument("--no-alerts", dest="alerts", action="store_false",
                   help="workers without the shift alerts (scoring path only)")
    p.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = p.parse_args(argv)

    messages = payloads(max(args.messages, 5000), args.data)
    results: dict = {"load_average_at_start": os.getloadavg(), "cpus": os.cpu_count(), "alerts": args.alerts}
    opts = {"device": args.device, "alerts_enabled": args.alerts}
    with tempfile.TemporaryDirectory(prefix="finsentry-bench-") as tmp, EmbeddedServices() as services:
        workdir = Path(tmp)
        if args.model_dir.is_dir():
            model, results["model"] = args.model_dir, str(args.model_dir)
        else:
            model, results["model"] = standin_student(workdir / "standin"), "random full-size BiLSTM stand-in"
        print(f"model: {results['model']}; messages: {args.data if args.data.is_file() else 'generated'}; "
              f"device: {args.device}; load average {results['load_average_at_start']}", flush=True)

        def report(key: str, value) -> None:
            results[key] = value
            print(f"{key}: {json.dumps(value)}", flush=True)

        if "throughput" in args.modes:
            report("throughput", throughput(services, workdir, model, messages[:args.messages], "s", opts))
            if args.workers > 1:
                report(f"throughput_{args.workers}_workers", throughput(
                    services, workdir, model, messages[:args.messages], "s", opts, args.workers))
        if "latency" in args.modes:
            report("latency", latency(services, workdir, model, messages, args.rate, args.latency_seconds, "s",
                                      opts))
        if "teacher" in args.modes:
            if is_classifier(args.teacher):
                teacher, results["teacher"] = args.teacher, str(args.teacher)
            else:
                teacher = minilm_classifier(workdir / "minilm-classifier")
                results["teacher"] = (f"no classifier at {args.teacher}; all-MiniLM-L6-v2 with a fresh 3-way head "
                                      "(same compute as a fine-tuned MiniLM teacher)")
            print(f"teacher: {results['teacher']}", flush=True)
            report("teacher_throughput", throughput(services, workdir, teacher, messages[:args.teacher_messages],
                                                    "t", opts))
            report("teacher_latency", latency(services, workdir, teacher, messages, args.rate,
                                              args.latency_seconds, "t", opts))
        if "memory" in args.modes:
            report("memory", memory(services, workdir, model, messages, args.memory_rate, args.memory_seconds, "m",
                                    opts))
    results["load_average_at_end"] = os.getloadavg()
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

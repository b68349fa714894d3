import json
import subprocess
import sys

import pytest

from stream.kafka_admin import create_topics
from stream.testing import consume

pytestmark = pytest.mark.integration


def test_replay_publishes_a_csv_at_a_rate(kafka, tmp_path):
    create_topics(["replayed"], partitions=1, bootstrap_servers=kafka.bootstrap)  # one partition keeps file order
    path = tmp_path / "news.csv"
    path.write_text("ts,ticker,headline\n" + "".join(
        f"2014-01-0{1 + i // 10}T00:00:{i % 60:02d}Z,AAPL,Headline {i}\n" for i in range(30)))
    done = subprocess.run([sys.executable, "-m", "finsentry_cli", "replay", str(path), "--topic", "replayed",
                           "--bootstrap", kafka.bootstrap, "--rate", "200"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "sent 30 messages" in done.stderr
    records = [json.loads(m.value) for m in consume(kafka.bootstrap, "replayed", 30)]
    assert [r["headline"] for r in records] == [f"Headline {i}" for i in range(30)]
    assert records[0] == {"headline": "Headline 0", "tickers": ["AAPL"], "source": "news",
                          "ts": "2014-01-01T00:00:00Z"}

"""Recent articles per ticker, kept as evidence for alert payloads."""
from __future__ import annotations

from stream.alerts.article import Article


class Evidence:
    """A bounded list of the latest articles (id, ts, score, weight, headline).

    >>> ev = Evidence(size=3)
    >>> for i, s in enumerate([0.1, -0.9, -0.2, -0.8]):
    ...     ev.add(str(i), float(i), s, 1.0, f"h{i}")
    >>> ev.mean(last=2)
    -0.5
    >>> [h["headline"] for h in ev.top(last=3, direction=-1, reference=0.0, k=2)]
    ['h1', 'h3']
    """

    def __init__(self, size: int, items: list[list] | None = None) -> None:
        self.size = size
        self.items: list[list] = list(items or [])[-size:]

    def add_article(self, a: Article, weight: float) -> None:
        self.add(a.id, a.ts, a.score, weight, a.headline)

    def add(self, id_: str, ts: float, score: float, weight: float, headline: str) -> None:
        self.items.append([id_, ts, score, weight, headline])
        if len(self.items) > self.size:
            del self.items[0]

    def recent(self, last: int) -> list[list]:
        return self.items[-max(1, last):]

    def since(self, start_ts: float, end_ts: float) -> list[list]:
        return [it for it in self.items if start_ts <= it[1] < end_ts]

    def mean(self, last: int | None = None, items: list[list] | None = None) -> float:
        items = self.recent(last or self.size) if items is None else items
        w = sum(it[3] for it in items)
        return sum(it[2] * it[3] for it in items) / w if w > 0 else 0.0

    def top(self, last: int, direction: int, reference: float, k: int, items: list[list] | None = None) -> list[dict]:
        """The ``k`` articles that pushed hardest in ``direction`` away from ``reference``."""
        pool = self.recent(last) if items is None else items
        ranked = sorted(pool, key=lambda it: -(direction or 1) * (it[2] - reference) * it[3])
        return self.describe(ranked[:k])

    @staticmethod
    def describe(items: list[list]) -> list[dict]:
        return [{"id": i, "ts": ts, "score": round(s, 4), "weight": round(w, 4), "headline": h}
                for i, ts, s, w, h in items]

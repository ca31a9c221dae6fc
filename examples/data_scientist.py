"""From a CRM to a chart: a segment as a pandas DataFrame, RFM groups, a bar chart in a PNG.

A data scientist's path through crmkit: fill a SQLite store with the sample CRM (500
contacts, a year of orders, made from a seed), pick a segment of customers, fetch only the
columns wanted into pandas, score every buyer by recency, frequency and money (RFM, computed
inside the database), join the two frames and plot how the segment's customers spread over
the RFM groups.

Needs pandas and matplotlib: ``pip install 'crmkit[pandas,plots]'``. Run it with
``python examples/data_scientist.py``; it writes ``data_scientist.db`` (made anew each run)
and ``rfm_groups.png`` in the current folder.
"""

from __future__ import annotations

from pathlib import Path

import crmkit
from crmkit import FixedClock
from crmkit.demo.sample import NOW, build_sample_crm
from crmkit.segments import RfmGroup, parse, rfm, rfm_groups, to_pandas

try:
    import pandas  # noqa: F401 - to_pandas imports it; here to say which extra is missing
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
except ImportError as missing:
    raise SystemExit(
        f"this example needs pandas and matplotlib ({missing.name} is missing): "
        "pip install 'crmkit[pandas,plots]'"
    ) from None

clock = FixedClock(NOW)  # 30 June 2026, 17:00 UTC: the sample CRM's "now"
path = Path("data_scientist.db")
for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
    leftover.unlink(missing_ok=True)

store = crmkit.open_store(f"sqlite:///{path}", clock=clock)
summary = build_sample_crm(store, seed=7, size="small")  # the same seed, the same records
print(
    f"Sample CRM in {path}: {summary.contacts} contacts, {summary.companies} companies, "
    f"{summary.orders} orders, {summary.activities} activities"
)

# -- 1. A segment: continental European customers with at least one paid order ------------
segment = parse(
    'country in ("DE", "FR", "NL", "ES")'
    ' and at least 1 order where (status in ("paid", "fulfilled"))'
)
columns = ["id", "first_name", "last_name", "country", "title", "facts.order_count"]
with store.unit_of_work(readonly=True) as uow:
    people = to_pandas(uow.contacts, columns, segment)  # only these columns are read
    scores = rfm(uow, currency="EUR")  # every buyer, scored among all buyers
print(f"Segment: {segment}")
print(f"  {len(people)} contacts; columns {list(people.columns)}")

# -- 2. RFM scores as a frame, joined to the segment --------------------------------------
frame = people.merge(to_pandas(scores), left_on="id", right_on="record_id", how="inner")
frame["monetary"] = frame["monetary"].astype(float)  # exact Decimals in; floats to summarise
print(f"  {len(frame)} of them scored by RFM (of {len(scores)} buyers in the store)")

order = [group.value for group in RfmGroup]  # champions first, lost last
by_group = (
    frame.groupby("group")
    .agg(
        customers=("id", "size"),
        recency_days=("recency_days", "median"),
        orders=("frequency", "mean"),
        spent_eur=("monetary", "mean"),
    )
    .reindex(order, fill_value=0)
    .round(1)
)
print()
print(by_group.to_string())

# rfm_groups gives each group's ids over every buyer; the segment picks its own from them.
champions = set(rfm_groups(scores)[RfmGroup.CHAMPIONS]) & set(frame["id"])
names = frame[frame["id"].isin(champions)].sort_values(["monetary", "id"], ascending=False)
print()
print(f"Champions in the segment: {len(champions)}; the three who spent most:")
for row in names.head(3).itertuples():
    print(f"  {row.first_name} {row.last_name} ({row.country}): {row.monetary:,.2f} EUR")

# -- 3. The chart, drawn with the Agg backend (no display needed) ------------------------
figure = Figure(figsize=(9, 4.5), layout="constrained")
FigureCanvasAgg(figure)
axes = figure.add_subplot()
labels = [group.replace("_", " ") for group in by_group.index]
bars = axes.bar(labels, by_group["customers"], color="#3b6ea8")
axes.bar_label(bars)
axes.margins(y=0.1)  # room for the labels above the tallest bar
axes.set_title("RFM groups of continental European customers (sample CRM, 30 June 2026)")
axes.set_ylabel("customers")
axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole customers on the axis
axes.tick_params(axis="x", labelrotation=30)
figure.savefig("rfm_groups.png", dpi=100)
print()
print(f"Saved rfm_groups.png: {len(order)} groups, {int(by_group['customers'].sum())} customers")
store.close()

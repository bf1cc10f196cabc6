import json
from collections import Counter
with open("csat_dsat_table.json") as f:
    csat = json.load(f)
ratings = csat["ratings"]
print(f"Showing {len(ratings)} of {csat['total_rated']} low-rating reviews\n")
tag_counts = Counter()
for r in ratings:
    for t in r.get("tags") or []:
        tag_counts[t] += 1
print("Top tags among 1–2★ ratings:")
for tag, count in tag_counts.most_common(10):
    print(f" {tag}: {count}")
print("\nRecent verbatims (with remark):")
for r in ratings[:15]:
    if not r.get("remark"):
        continue
    print(f" [{r['conversation_id']}] {r['rating']}★: {r['remark'][:140]}")

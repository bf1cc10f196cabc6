import json
with open("top_intercom_items.json") as f:
    traffic = json.load(f)
with open("intercom_kb.json") as f:
    kb = json.load(f)
# Build item_id -> title lookup from intercom_items
item_titles = {item["id"]: item["title"] for item in kb.get("intercom_items", [])}
print("Top 10 most cited Intercom articles:")
for i, entry in enumerate(traffic["items"][:10], 1):
    title = item_titles.get(entry["item_id"], entry["item_id"])
    print(f" {i}. {title} — {entry['count']} citations")
